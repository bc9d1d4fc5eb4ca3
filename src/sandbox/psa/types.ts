import type { PsaKind } from '../../domain/psa/psa';
import type { PsaChaosKnobs, SandboxCallCounts } from './psa-sandbox-http';

/** A ticket as a sandbox PSA holds it, in Cabinet's terms, for tests and the sandbox banner. */
export interface SandboxTicket {
  readonly id: string;
  /** The company/client reference the ticket was opened for (as the mapping names it). */
  readonly company: string;
  readonly summary: string;
  /** ConnectWise `externalXRef`, Autotask `externalID`; HaloPSA keeps it in the text. */
  readonly externalRef?: string;
  readonly status: string;
  readonly priority: string;
  readonly notes: readonly SandboxNote[];
}

export interface SandboxNote {
  readonly id: string;
  readonly text: string;
  readonly author: string;
  readonly internal: boolean;
  readonly createdAt: string;
}

/** What every sandbox PSA offers beside its real wire API; each adds its own connection details. */
export interface RunningPsaSandbox {
  readonly kind: PsaKind;
  /** Base URL of its API (what the connector is configured with). */
  readonly url: string;
  /** Faults to inject; change the fields at any time. */
  readonly chaos: PsaChaosKnobs;
  readonly counts: SandboxCallCounts;
  /** Everything the PSA holds now (copies). */
  tickets(): readonly SandboxTicket[];
  /**
   * A technician adds a note in the PSA's own UI: stored with the PSA's next note id, then the
   * webhook/callback (when a target is set and `webhook` is not false) is sent, signed as the PSA signs.
   */
  addTechnicianNote(
    ticketId: string,
    text: string,
    options?: { readonly author?: string; readonly internal?: boolean; readonly webhook?: boolean },
  ): Promise<string>;
  /** Where webhooks go (Cabinet's `/api/psa/<kind>`), once Cabinet listens; undefined stops sending. */
  setWebhookTarget(url: string | undefined): void;
  close(): Promise<void>;
}
