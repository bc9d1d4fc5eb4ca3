import { TableClient } from '@azure/data-tables';
import type { ReadRow } from './table-entity.mapper';
import { guarded, isEntityNotFound } from './table-errors';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** How a table client is opened. */
export interface OpenTableOptions {
  /**
   * Let the SDK retry transient failures itself. Off for transactions: a retried batch that was in
   * fact applied would come back as a conflict, and the committer must see the first outcome.
   */
  readonly sdkRetries?: boolean;
}

/**
 * Opens one table. Plain HTTP is allowed only for a loopback endpoint (Azurite); anything else must
 * be HTTPS, so a mistyped production connection string can never send the account key in clear.
 */
export function openTable(
  connectionString: string,
  table: string,
  options: OpenTableOptions = {},
): TableClient {
  return TableClient.fromConnectionString(connectionString, table, {
    allowInsecureConnection: isLoopbackHttp(connectionString),
    retryOptions:
      options.sdkRetries === false
        ? { maxRetries: 0 }
        : { maxRetries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1_000 },
  });
}

/** True when the table endpoint is `http://` on a loopback host. */
export function isLoopbackHttp(connectionString: string): boolean {
  const endpoint = /(?:^|;)\s*TableEndpoint=([^;]+)/i.exec(connectionString)?.[1];
  if (endpoint === undefined) return false;
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    return false;
  }
  return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
}

/** Point read; undefined when the row does not exist. Failures are translated to port errors. */
export function readRow(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<ReadRow | undefined> {
  return guarded(`read ${rowKey}`, async () => {
    try {
      return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
    } catch (error) {
      if (isEntityNotFound(error)) return undefined;
      throw error;
    }
  });
}
