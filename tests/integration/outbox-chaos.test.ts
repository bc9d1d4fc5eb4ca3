import { useAzurite } from '../support/azurite-fixture';
import { describeOutboxChaos } from '../support/outbox-chaos';

/**
 * The outbox chaos scenario, short (issue 6; the long one is tests/long/outbox-chaos.test.ts): about
 * a hundred PSA messages, a couple of relay kills.
 */
describe('Outbox chaos, short: PSA sync under injected faults and relay kills (Azurite, sandbox PSAs)', () => {
  const azurite = useAzurite();
  describeOutboxChaos(azurite, {
    requestsPerClient: 4,
    notesPerRequest: 3,
    killEveryMs: [2_000, 4_000],
    failRate: 0.3,
    dropRate: 0.1,
    budgetMs: 90_000,
    seed: 6,
  });
});
