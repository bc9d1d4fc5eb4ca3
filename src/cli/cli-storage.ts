import { StorageUnavailableError } from '../application/ports/errors';
import { classifyStorageError } from '../adapters/storage/table-errors';
import { createTableStorage, type TableStorage } from '../adapters/storage/table-storage';
import type { Config } from '../config';
import { azuriteConnectionString } from '../sandbox/azurite';

/** Storage could not be opened; the message says what to do. */
export class CliStorageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliStorageError';
  }
}

/**
 * Opens the storage Cabinet itself uses: the configured account, or in sandbox mode without one,
 * the sandbox's Azurite on 127.0.0.1.
 */
export async function openCliStorage(config: Config): Promise<TableStorage> {
  const sandbox = config.storage.connectionString === undefined;
  const connectionString =
    config.storage.connectionString ?? azuriteConnectionString(config.sandbox.azuritePort);
  const storage = createTableStorage({ connectionString, tablePrefix: config.storage.tablePrefix });
  try {
    await storage.ping();
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    if (sandbox && classifyStorageError(error.cause).kind === 'unreachable') {
      throw new CliStorageError(
        `The sandbox storage (Azurite on 127.0.0.1:${config.sandbox.azuritePort}) is not running; start it with npm start.`,
        { cause: error },
      );
    }
    throw new CliStorageError(`Storage is unavailable: ${error.message}`, { cause: error });
  }
  return storage;
}
