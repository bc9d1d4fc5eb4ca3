import type { Person } from '../../domain/change-request/change-request';
import type { ClientProfile } from '../../domain/client/client';
import { PSA_NAMES } from '../../domain/psa/psa';
import { DomainError } from '../../domain/shared/errors';
import type { TenantId } from '../../domain/shared/ids';
import { samePerson } from '../../domain/shared/person';
import { err, ok, type Result } from '../../domain/shared/result';
import type {
  NotificationTemplate,
  OutboxMessage,
  OutboxRow,
  OutboxStore,
  Recipient,
} from '../ports/outbox';
import type { UseCaseDeps } from './context';
import { identify } from './identify';

/** What the deliveries use cases read: the usual ports and the outbox. */
export type DeliveriesDeps = Pick<UseCaseDeps, 'clients' | 'mspTenantId' | 'clock'> & {
  readonly outbox: Pick<OutboxStore, 'list' | 'retry'>;
};

/** One delivery the relay gave up on, in words an MSP lead can act on. */
export interface ParkedDelivery {
  readonly tenantId: TenantId;
  readonly rowId: string;
  readonly clientCode: string;
  readonly clientName: string;
  /** The request the delivery is about, when it is about one. */
  readonly requestId?: string;
  /** What the delivery would have done, e.g. "Add a note to the HaloPSA ticket for CONTOSO-1042". */
  readonly what: string;
  readonly attempts: number;
  readonly lastError: string;
  /** When the delivery was queued (rows do not record when they were parked). */
  readonly queuedAt: string;
}

export const DeliveryErrors = {
  notLead: () =>
    new DomainError(
      'DELIVERY.NOT_LEAD',
      'Only MSP leads can see and retry parked deliveries, for the clients they lead.',
    ),
  notFound: (rowId: string) =>
    new DomainError(
      'DELIVERY.NOT_FOUND',
      `There is no parked delivery ${rowId} for that client: it was retried or delivered already.`,
      { rowId },
    ),
} as const;

/** The clients `actor` leads; a client-tenant person and a technician lead none. */
async function ledClients(deps: DeliveriesDeps, actor: Person): Promise<ClientProfile[]> {
  const identity = await identify(deps, actor);
  if (!identity.isMspStaff) return [];
  return identity.memberships.filter((m) => m.roles.has('lead')).map((m) => m.client);
}

/**
 * Every parked outbox row of the clients `actor` leads (issue 6 §1), oldest first, so a lead sees
 * what Cabinet could not deliver (a PSA that refused a ticket, a Teams message nobody could get)
 * and why.
 */
export async function parkedDeliveries(
  deps: DeliveriesDeps,
  actor: Person,
): Promise<Result<ParkedDelivery[], DomainError>> {
  const clients = await ledClients(deps, actor);
  if (clients.length === 0) return err(DeliveryErrors.notLead());
  const lists = await Promise.all(
    clients.map(async (client) =>
      (await deps.outbox.list(client.tenantId, { statuses: ['parked'] })).map((row) =>
        parkedDelivery(client, row),
      ),
    ),
  );
  return ok(lists.flat().sort((a, b) => a.queuedAt.localeCompare(b.queuedAt)));
}

/**
 * Makes one parked row of a client `actor` leads due now with a fresh attempt budget; the relay
 * delivers it on its next pass.
 * @remarks Not audited: a retry changes no request and no client, only when the relay tries a
 * delivery again, and the row itself shows its attempts. The outbox store and the audit chain are
 * different tables, so an audit entry could not be written in the same transaction anyway.
 */
export async function retryDelivery(
  deps: DeliveriesDeps,
  actor: Person,
  tenantId: string,
  rowId: string,
): Promise<Result<ParkedDelivery, DomainError>> {
  const client = (await ledClients(deps, actor)).find((c) => c.tenantId === tenantId);
  if (!client) return err(DeliveryErrors.notLead());
  // Only parked rows: a pending row is the relay's to deliver, and a done one must not be sent twice.
  const row = (await deps.outbox.list(client.tenantId, { statuses: ['parked'] })).find(
    (r) => r.id === rowId,
  );
  if (!row || !(await deps.outbox.retry(client.tenantId, row.id, deps.clock.now())))
    return err(DeliveryErrors.notFound(rowId.slice(0, 80)));
  return ok(parkedDelivery(client, row));
}

function parkedDelivery(client: ClientProfile, row: OutboxRow): ParkedDelivery {
  const requestId = requestOf(row.message);
  return {
    tenantId: client.tenantId,
    rowId: row.id,
    clientCode: client.code,
    clientName: client.name,
    ...(requestId ? { requestId } : {}),
    what: describeDelivery(row.message, client),
    attempts: row.attempts,
    lastError: row.lastError ?? 'No error was recorded.',
    queuedAt: row.createdAt,
  };
}

function requestOf(message: OutboxMessage): string | undefined {
  switch (message.kind) {
    case 'teams.notify':
    case 'teams.channel':
      // Template and checkpoint cards carry their own id as the request id; they are about no request.
      return message.notification.templateId ||
        message.notification.checkpoint ||
        message.notification.template === 'monthly_report'
        ? undefined
        : message.notification.requestId;
    case 'graph.execute':
    case 'index.sync':
    case 'psa.sync':
      return message.requestId;
  }
}

const TEMPLATE_WORDS: Readonly<Record<NotificationTemplate, string>> = {
  approval_request: 'approval card',
  approval_decided: 'decision card',
  status_update: 'status update',
  ready_to_execute: 'ready-to-execute card',
  request_closed: 'closure card',
  execution_update: 'execution update',
  assessment_needed: 'assessment request',
  info_requested: 'question',
  info_provided: 'answer',
  approval_reminder: 'approval reminder',
  approval_escalation: 'approval escalation',
  emergency_notice: 'emergency notice',
  change_notice: 'change notice',
  retrospective_request: 'retrospective approval card',
  review_overdue: 'overdue review reminder',
  template_approval_request: 'template approval card',
  template_suspended: 'template suspension notice',
  sla_alert: 'SLA alert',
  psa_note: 'PSA note',
  checkpoint_witness: 'audit checkpoint witness',
  monthly_report: 'monthly change report',
};

/** What a row would do, in words (the CLI's `outbox list` says the same more tersely). */
export function describeDelivery(message: OutboxMessage, client: ClientProfile): string {
  switch (message.kind) {
    case 'teams.notify': {
      const n = message.notification;
      const words = TEMPLATE_WORDS[n.template];
      const about = n.templateId ? `template ${n.templateId}` : n.requestId;
      return `Teams ${words} for ${about} to ${recipientName(message.recipient, client)}`;
    }
    case 'teams.channel':
      return `${TEMPLATE_WORDS[message.notification.template]} for ${message.notification.requestId} in the ${message.channel.toUpperCase()} channel`;
    case 'graph.execute':
      return `Run the Microsoft 365 changes of ${message.requestId} (run ${message.runId})`;
    case 'index.sync':
      return `Update the open-request index for ${message.requestId}`;
    case 'psa.sync': {
      const psa = client.settings.psa ? PSA_NAMES[client.settings.psa.psa] : 'PSA';
      if (message.op === 'ticket') return `Open the ${psa} ticket for ${message.requestId}`;
      const status = message.status ? `, moving it to ${message.status.replace(/_/g, ' ')}` : '';
      return `Add a note to the ${psa} ticket for ${message.requestId}${status}`;
    }
  }
}

/** The recipient by the name the client profile knows them by: an object id means nothing to a lead. */
function recipientName(recipient: Recipient, client: ClientProfile): string {
  const known = [...client.admins, ...client.approvers, ...client.techs, ...client.leads].find(
    (p) => samePerson(p, recipient),
  );
  return known?.name || 'someone not listed for this client';
}
