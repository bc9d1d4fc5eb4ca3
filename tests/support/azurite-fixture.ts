import { randomBytes } from 'node:crypto';
import {
  createTableStorage,
  type CreateTableStorageOptions,
  type TableStorage,
} from '../../src/adapters/storage/table-storage';
import {
  startAzurite,
  type RunningAzurite,
  type StartAzuriteOptions,
} from '../../src/sandbox/azurite';

/** Azurite for one test file, plus fresh storages on it, each under its own table prefix. */
export interface AzuriteFixture {
  readonly connectionString: string;
  readonly port: number;
  /** A storage with a unique table prefix and its tables created. */
  newStorage(
    options?: Partial<Omit<CreateTableStorageOptions, 'connectionString'>>,
  ): Promise<TableStorage & { readonly prefix: string }>;
}

/** A table prefix no other suite on the same Azurite uses. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/**
 * Starts Azurite (in memory, loopback, free port) in `before` and stops it with SIGINT in `after`.
 * Call it inside a `describe`.
 */
export function useAzurite(options: StartAzuriteOptions = {}): AzuriteFixture {
  let running: RunningAzurite | undefined;
  before(async function () {
    this.timeout(30_000);
    running = await startAzurite(options);
  });
  after(async () => {
    await running?.stop();
  });
  const get = (): RunningAzurite => {
    if (!running)
      throw new Error('Azurite is not running yet: use the fixture inside a test or hook.');
    return running;
  };
  return {
    get connectionString() {
      return get().connectionString;
    },
    get port() {
      return get().port;
    },
    async newStorage(overrides = {}) {
      const prefix = overrides.tablePrefix ?? uniquePrefix();
      const storage = createTableStorage({
        ...overrides,
        connectionString: get().connectionString,
        tablePrefix: prefix,
      });
      await storage.ensureTables();
      return Object.assign(storage, { prefix });
    },
  };
}
