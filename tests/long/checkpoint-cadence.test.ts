import { describeCheckpointCadence } from '../support/checkpoint-cadence';

// T9 as specified: 10 simulated minutes at 20/s (ten times the burst in `npm test`).
describeCheckpointCadence({ burstMinutes: 10, trickleMinutes: 12, takeoverMinutes: 2 });
