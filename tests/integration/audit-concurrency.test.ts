import { describeConcurrentAppends } from '../support/concurrent-appends';

describeConcurrentAppends(4, 250, 120_000);
