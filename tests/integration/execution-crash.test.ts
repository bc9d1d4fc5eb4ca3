import { useAzurite } from '../support/azurite-fixture';
import { CRASH_CASES, describeCrashCases } from '../support/execution-crash';

/**
 * A representative set of the crash/resume matrix (the rest: `npm run test:long`): a worker process
 * SIGKILLed after a Graph write landed but before it recorded it, between steps, and while
 * compensating; a fresh worker process finishes the run with every Graph mutation applied once.
 */
describe('Execution killed mid-run resumes in a fresh worker (SIGKILL; Azurite, sandbox cloud)', () => {
  const azurite = useAzurite();
  describeCrashCases(
    azurite,
    CRASH_CASES.filter((c) => c.quick),
  );
});
