import { inspect } from 'node:util';
import { createInMemoryStorage, FakeClock } from '../fakes/in-memory-storage';
import { describeAuditLogContract } from './audit-log.contract';
import { describeChangeRequestStoreContract } from './change-request-store.contract';
import { describeClientDirectoryContract } from './client-directory.contract';
import type { MakeStorage } from './contract-support';
import { describeConversationStoreContract } from './conversation-store.contract';
import { describeDataKeyringContract } from './data-keyring.contract';
import { describeExecutionStoreContract } from './execution-store.contract';
import type { MakeExecutionStorage } from './execution-support';
import { describeOutboxStoreContract } from './outbox-store.contract';
import { describePasswordVaultContract } from './password-vault.contract';

const make: MakeStorage = () => {
  const storage = createInMemoryStorage(new FakeClock());
  return Promise.resolve({ ...storage, clock: storage.clock as FakeClock });
};

describeChangeRequestStoreContract('in memory', make);
describeAuditLogContract('in memory', make);
describeClientDirectoryContract('in memory', make);
describeOutboxStoreContract('in memory', make);
describeConversationStoreContract('in memory', make);
describeDataKeyringContract('in memory', make);

const makeExecution: MakeExecutionStorage = () => {
  const storage = createInMemoryStorage(new FakeClock());
  return Promise.resolve({
    ...storage,
    clock: storage.clock as FakeClock,
    storedText: () =>
      Promise.resolve(
        inspect(storage.data, { depth: null, maxArrayLength: null, maxStringLength: null }),
      ),
  });
};

describeExecutionStoreContract('in memory', makeExecution);
describePasswordVaultContract('in memory', makeExecution);
