import { createInMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryWebhookKeyStore, InMemoryWebhookLedger } from '../fakes/in-memory-webhooks';
import { describeWebhookStorageContract } from './webhooks.contract';

describeWebhookStorageContract('in memory', () => {
  const storage = createInMemoryStorage();
  return Promise.resolve({
    keys: new InMemoryWebhookKeyStore(storage.data),
    ledger: new InMemoryWebhookLedger(storage.data),
    requests: storage.requests,
    audit: storage.audit,
  });
});
