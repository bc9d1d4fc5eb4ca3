import type { PsaLinkStore, PsaTicketOwner } from '../../src/application/ports/psa';
import type { PsaKind } from '../../src/domain/psa/psa';

/** PSA links and polling watermarks in memory, for unit tests (same contract as the table adapter). */
export class InMemoryPsaLinks implements PsaLinkStore {
  readonly links = new Map<string, PsaTicketOwner>();
  readonly watermarks = new Map<PsaKind, Date>();

  link(psa: PsaKind, ticketId: string, owner: PsaTicketOwner): Promise<void> {
    this.links.set(`${psa}/${ticketId}`, { tenantId: owner.tenantId, requestId: owner.requestId });
    return Promise.resolve();
  }

  owner(psa: PsaKind, ticketId: string): Promise<PsaTicketOwner | undefined> {
    return Promise.resolve(this.links.get(`${psa}/${ticketId}`));
  }

  watermark(psa: PsaKind): Promise<Date | undefined> {
    const at = this.watermarks.get(psa);
    return Promise.resolve(at ? new Date(at) : undefined);
  }

  setWatermark(psa: PsaKind, at: Date): Promise<void> {
    this.watermarks.set(psa, new Date(at));
    return Promise.resolve();
  }
}
