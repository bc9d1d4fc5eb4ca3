import { describeConcurrentAppends } from '../support/concurrent-appends';

// Ten times the CI scenario, and more writers than cores: contention the suite in `npm test` never reaches.
describeConcurrentAppends(4, 2_500, 0);
describeConcurrentAppends(8, 500, 0);
