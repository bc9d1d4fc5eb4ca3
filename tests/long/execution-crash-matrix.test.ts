import { useAzurite } from '../support/azurite-fixture';
import { CRASH_CASES, describeCrashCases } from '../support/execution-crash';

/**
 * The whole crash/resume matrix (T23): every kill point of the offboard and new-user plans, after a
 * write landed, between steps, and while compensating. `npm test` runs the cases marked quick.
 */
describe('Execution crash/resume matrix (SIGKILL; Azurite, sandbox cloud)', () => {
  const azurite = useAzurite();
  describeCrashCases(azurite, CRASH_CASES);
});
