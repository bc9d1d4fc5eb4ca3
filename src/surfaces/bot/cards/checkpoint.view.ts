import { messageCard } from './message.view';
import type { AdaptiveCardJson } from './template';

/** What a witness card states: which client's log, how many entries, which root. */
export interface CheckpointWitness {
  readonly clientName: string;
  readonly size: number;
  /** The Merkle root, hex. */
  readonly root: string;
}

/**
 * The short witness message a client's admins receive for each checkpoint of their audit chain.
 * @remarks A copy of the root outside Cabinet's storage: an admin who keeps the message can later
 * hold any evidence bundle against it. It is sent only after the checkpoint was anchored.
 */
export function checkpointWitnessCard(witness: CheckpointWitness): AdaptiveCardJson {
  return messageCard({
    title: `Audit checkpoint: ${witness.size} entries, root ${witness.root.slice(0, 16)}…, anchored`,
    text: `Cabinet signed a checkpoint of ${witness.clientName}'s change audit log and anchored it in append-only storage. Nothing to do: keep this message; an auditor can compare the root with any evidence bundle.`,
    style: 'accent',
    facts: [
      { title: 'Entries', value: String(witness.size) },
      { title: 'Root (SHA-256)', value: witness.root },
    ],
  });
}
