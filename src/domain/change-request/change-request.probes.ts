import type { ChangeEvent } from './change-request.machine';
import type { ClosureOutcome } from './change-class';

/** Stand-in text for dry runs of events that need words from a person; never stored. */
export const PROBE_TEXT = 'probe text for a dry run';

/** The smallest assessment the machine accepts, for asking "may this person assess now?". */
export const PROBE_ASSESSED: ChangeEvent = {
  type: 'Assessed',
  assessment: {
    impact: 'none',
    risk: 'low',
    affectedUsers: 0,
    affectedServices: [],
    implementationPlan: PROBE_TEXT,
    testPlan: PROBE_TEXT,
    dependencies: [],
    sensitivity: [],
  },
  suggestion: { level: 'low', score: 0, floor: 'low', floorBy: [], signals: [] },
};

/** A review with `outcome`, for asking "may this person file the review now?". */
export function probeReview(outcome: ClosureOutcome): ChangeEvent {
  return {
    type: 'ReviewFiled',
    review: {
      objectiveAchieved: outcome === 'successful' ? 'yes' : 'partly',
      outcome,
      ...(outcome === 'successful' ? {} : { unexpectedImpacts: PROBE_TEXT }),
      becomeStandard: false,
    },
  };
}

/** Which review outcomes the machine would accept from this person now (empty: no review to file). */
export function reviewOutcomesAllowed(accepts: (event: ChangeEvent) => boolean): ClosureOutcome[] {
  const outcomes: ClosureOutcome[] = [
    'successful',
    'successful_with_issues',
    'failed',
    'rolled_back',
  ];
  return outcomes.filter((o) => accepts(probeReview(o)));
}
