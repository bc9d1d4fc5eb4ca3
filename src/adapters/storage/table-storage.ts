import type { TableClient } from '@azure/data-tables';
import type { AuditLog } from '../../application/ports/audit-log';
import type { CheckpointStore } from '../../application/ports/checkpoints';
import type { MonthlyReportLedger } from '../../application/ports/monthly-reports';
import type { ChangeRequestStore } from '../../application/ports/change-request-store';
import type { ClientDirectory } from '../../application/ports/client-directory';
import type { Clock } from '../../application/ports/clock';
import type { ConversationStore } from '../../application/ports/conversation-store';
import type { DataKeyring } from '../../application/ports/data-keyring';
import type { DelegationStore } from '../../application/ports/delegation-store';
import type { TemplateCatalogue } from '../../application/ports/template-catalogue';
import type { TenantId } from '../../domain/shared/ids';
import type { ExecutionStore, PasswordVault } from '../../application/ports/execution-store';
import type { OutboxStore } from '../../application/ports/outbox';
import type { ChannelStore } from '../../application/ports/channel-store';
import type { Lease } from '../../application/ports/lease';
import type { OpenRequestIndex } from '../../application/ports/open-request-index';
import type { PsaLinkStore } from '../../application/ports/psa';
import type { WebhookKeyStore, WebhookLedger } from '../../application/ports/webhook-keys';
import { TableDataKeyring } from '../crypto/table-data-keyring';
import {
  PartitionCommitter,
  type CommitterStats,
  type PartitionCommitterOptions,
} from './partition-committer';
import { TableAuditLog } from './table-audit-log';
import { TableChangeRequestStore } from './table-change-request-store';
import { TableCheckpointStore } from './table-checkpoint-store';
import { TableMonthlyReportLedger } from './table-monthly-report-ledger';
import { TableClientDirectory } from './table-client-directory';
import { openTable, readRow } from './table-connection';
import { TableConversationStore } from './table-conversation-store';
import { TableDelegationStore } from './table-delegation-store';
import { TableTemplateCatalogue } from './table-template-catalogue';
import { guarded } from './table-errors';
import { TableExecutionStore } from './table-execution-store';
import { TableOpenRequestIndex } from './table-open-request-index';
import { TableOutboxStore } from './table-outbox-store';
import { TablePasswordVault } from './table-password-vault';
import { TableChannelStore } from './table-channel-store';
import { TableLease } from './table-lease';
import { TablePsaLinkStore } from './table-psa-link-store';
import { TableWebhookKeyStore } from './table-webhook-keys';
import { TableWebhookLedger } from './table-webhook-ledger';

/** Where the tables are and how they are named; `clock` stamps audit entries and outbox rows. */
export interface CreateTableStorageOptions {
  readonly connectionString: string;
  /** Letters and digits, starting with a letter; every table name is this plus a fixed suffix. */
  readonly tablePrefix: string;
  readonly clock?: Clock;
  readonly commit?: PartitionCommitterOptions;
}

/** Every storage port Cabinet needs, backed by Azure Table Storage (or Azurite). */
export interface TableStorage {
  readonly requests: ChangeRequestStore;
  readonly audit: AuditLog;
  readonly clients: ClientDirectory;
  readonly outbox: OutboxStore;
  readonly conversations: ConversationStore;
  readonly keyring: DataKeyring;
  /** Execution runs (Graph sagas) beside their requests. */
  readonly runs: ExecutionStore;
  /** New users' temporary passwords, sealed with the client's data key. */
  readonly passwords: PasswordVault;
  /** Approval delegations beside the client's audit chain. */
  readonly delegations: DelegationStore;
  /** The standard-change catalogue; global templates live in the MSP tenant's partition. */
  readonly catalogue: (mspTenantId: TenantId) => TemplateCatalogue;
  /** Named leases (the SLA sweeper's), in their own table. */
  readonly leases: Lease;
  /** The MSP's bound Teams channels (the SLA channel) and the cards posted there. */
  readonly channels: ChannelStore;
  /** The MSP-wide index of open requests (issue 5), kept up to date by the relay's `index.sync` rows. */
  readonly openRequests: OpenRequestIndex;
  /** Which request each PSA ticket belongs to, and each PSA's polling watermark (issue 6), MSP-wide. */
  readonly psaLinks: PsaLinkStore;
  /** Per-client webhook keys (URL client key → tenant, sealed signing secrets). */
  readonly webhookKeys: WebhookKeyStore;
  /** Webhook delivery ids and idempotency records in the client partitions. */
  readonly webhookLedger: WebhookLedger;
  /** Signed checkpoints of each client's audit chain, beside it (issue 7). */
  readonly checkpoints: CheckpointStore;
  /** Which monthly change reports were posted to each client (issue 7), beside its audit chain. */
  readonly monthlyReports: MonthlyReportLedger;
  /** Counters of the group committer (transactions, entries, head conflicts). */
  readonly commitStats: Readonly<CommitterStats>;
  /** Resolves when storage answers and the tables exist (for `/readyz`); StorageUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Creates the tables if missing; safe to call on every start. */
  ensureTables(): Promise<void>;
}

/** The table names for a prefix: client data, MSP-wide directory, conversations, data keys, open-request index. */
export function tableNames(prefix: string): {
  readonly data: string;
  readonly directory: string;
  readonly conversations: string;
  readonly keys: string;
  readonly openRequests: string;
  readonly leases: string;
} {
  if (!/^[A-Za-z][A-Za-z0-9]{2,40}$/.test(prefix))
    throw new Error(
      `Table prefix "${prefix}" must be 3–41 letters and digits, starting with a letter.`,
    );
  return {
    data: `${prefix}data`,
    directory: `${prefix}directory`,
    conversations: `${prefix}conversations`,
    keys: `${prefix}keys`,
    openRequests: `${prefix}openrequests`,
    leases: `${prefix}leases`,
  };
}

const systemClock: Clock = { now: () => new Date() };

/**
 * Wires the Table Storage adapters over one connection string. All writes to a client's partition
 * share one group committer, so a state change, its audit entries and its outbox rows land together.
 */
export function createTableStorage(options: CreateTableStorageOptions): TableStorage {
  const names = tableNames(options.tablePrefix);
  const clock = options.clock ?? systemClock;
  const data = openTable(options.connectionString, names.data);
  const directory = openTable(options.connectionString, names.directory);
  const conversationsTable = openTable(options.connectionString, names.conversations);
  const keysTable = openTable(options.connectionString, names.keys);
  const leasesTable = openTable(options.connectionString, names.leases);
  const openRequestsTable = openTable(options.connectionString, names.openRequests);
  const committer = new PartitionCommitter(
    openTable(options.connectionString, names.data, { sdkRetries: false }),
    data,
    clock,
    options.commit,
  );
  const keyring = new TableDataKeyring(keysTable);
  const tables: readonly TableClient[] = [
    data,
    directory,
    conversationsTable,
    keysTable,
    openRequestsTable,
    leasesTable,
  ];
  return {
    requests: new TableChangeRequestStore(data, committer, keyring),
    audit: new TableAuditLog(data, committer, keyring),
    clients: new TableClientDirectory(data, directory, committer, keyring),
    outbox: new TableOutboxStore(data),
    conversations: new TableConversationStore(conversationsTable),
    keyring,
    runs: new TableExecutionStore(data, committer, keyring),
    passwords: new TablePasswordVault(data, keyring),
    delegations: new TableDelegationStore(data, committer, keyring),
    catalogue: (mspTenantId) => new TableTemplateCatalogue(data, committer, keyring, mspTenantId),
    openRequests: new TableOpenRequestIndex(openRequestsTable),
    leases: new TableLease(leasesTable),
    channels: new TableChannelStore(conversationsTable),
    psaLinks: new TablePsaLinkStore(directory),
    webhookKeys: new TableWebhookKeyStore(data, directory, keyring, committer),
    webhookLedger: new TableWebhookLedger(data),
    checkpoints: new TableCheckpointStore(data, committer),
    monthlyReports: new TableMonthlyReportLedger(data, committer, keyring),
    commitStats: committer.stats,
    async ping() {
      await Promise.all(tables.map((table) => readRow(table, 'ping', 'ping')));
    },
    ensureTables: () =>
      guarded('create tables', async () => {
        await Promise.all(tables.map((table) => table.createTable()));
      }),
  };
}
