import { describeCheckpointCadence } from '../support/checkpoint-cadence';

// T9 at CI size; tests/long runs the full 10 simulated minutes at 20/s.
describeCheckpointCadence({ burstMinutes: 1, trickleMinutes: 12, takeoverMinutes: 2 });
