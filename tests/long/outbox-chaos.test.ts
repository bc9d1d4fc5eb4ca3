import { useAzurite } from '../support/azurite-fixture';
import { describeOutboxChaos } from '../support/outbox-chaos';

/**
 * The outbox chaos scenario of the reliability reference (§6 T24, issue 6): about 1,000 PSA
 * messages across 5 clients, the relay killed every 5–15 s.
 */
describe('Outbox chaos (T24): PSA sync under injected faults and relay kills (Azurite, sandbox PSAs)', () => {
  const azurite = useAzurite();
  describeOutboxChaos(azurite, {
    requestsPerClient: 20,
    notesPerRequest: 8,
    killEveryMs: [5_000, 15_000],
    failRate: 0.3,
    dropRate: 0.1,
    budgetMs: 15 * 60_000,
    seed: 24,
  });
});
