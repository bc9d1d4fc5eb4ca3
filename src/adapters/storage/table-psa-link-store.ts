import type { TableClient } from '@azure/data-tables';
import type { PsaLinkStore, PsaTicketOwner } from '../../application/ports/psa';
import { PSA_KINDS, type PsaKind } from '../../domain/psa/psa';
import { asTenantId, type ChangeRequestId } from '../../domain/shared/ids';
import { readRow } from './table-connection';
import { guarded } from './table-errors';
import { InvalidStorageKeyError } from './table-keys';

/** Watermarks share one partition apart from the links: a handful of rows, read one at a time by PSA. */
const WATERMARK_PARTITION = 'psa_watermark';
/**
 * Ticket ids come from PSA webhooks and API answers: only characters that are safe in a row key
 * (no `/ \ # ?` or control characters), so a hostile delivery can never address another row.
 */
const TICKET_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * PSA links as rows of the MSP-wide directory table: `psa_<kind>` / ticket id → the owning
 * request's tenant and id (a webhook or a poll names only the ticket), and each PSA's polling
 * watermark under `psa_watermark` / kind.
 * @remarks A link never changes owner once written (the relay links a ticket it opened for one
 * request), so `link` is a plain upsert: writing it again after a lost response is harmless.
 */
export class TablePsaLinkStore implements PsaLinkStore {
  constructor(private readonly directory: TableClient) {}

  async link(psa: PsaKind, ticketId: string, owner: PsaTicketOwner): Promise<void> {
    await guarded('link PSA ticket', () =>
      this.directory.upsertEntity(
        {
          partitionKey: linkPartition(psa),
          rowKey: ticketKey(ticketId),
          tenantId: owner.tenantId,
          requestId: owner.requestId,
        },
        'Replace',
      ),
    );
  }

  async owner(psa: PsaKind, ticketId: string): Promise<PsaTicketOwner | undefined> {
    if (!TICKET_ID.test(ticketId)) return undefined;
    const row = await readRow(this.directory, linkPartition(psa), ticketId);
    if (!row) return undefined;
    const tenantId = typeof row['tenantId'] === 'string' ? asTenantId(row['tenantId']) : undefined;
    const requestId = row['requestId'];
    if (!tenantId || typeof requestId !== 'string') return undefined;
    return { tenantId, requestId: requestId as ChangeRequestId };
  }

  async watermark(psa: PsaKind): Promise<Date | undefined> {
    const row = await readRow(this.directory, WATERMARK_PARTITION, kindKey(psa));
    const at = row?.['at'];
    return typeof at === 'string' ? new Date(at) : undefined;
  }

  async setWatermark(psa: PsaKind, at: Date): Promise<void> {
    await guarded('set PSA watermark', () =>
      this.directory.upsertEntity(
        { partitionKey: WATERMARK_PARTITION, rowKey: kindKey(psa), at: at.toISOString() },
        'Replace',
      ),
    );
  }
}

function kindKey(psa: PsaKind): string {
  if (!(PSA_KINDS as readonly string[]).includes(psa)) throw new InvalidStorageKeyError('PSA kind');
  return psa;
}

function linkPartition(psa: PsaKind): string {
  return `psa_${kindKey(psa)}`;
}

function ticketKey(ticketId: string): string {
  if (!TICKET_ID.test(ticketId)) throw new InvalidStorageKeyError('PSA ticket id');
  return ticketId;
}
