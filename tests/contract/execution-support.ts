import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  MAX_STORED_RUN_BYTES,
  type ExecutionStore,
  type PasswordVault,
} from '../../src/application/ports/execution-store';
import type { GraphExecuteMessage } from '../../src/application/ports/outbox';
import type { ExecutionPlan, PlanStep } from '../../src/domain/execution/execution-plan';
import {
  formatRunId,
  type ExecutionRun,
  type StepProgress,
} from '../../src/domain/execution/execution-run';
import { formatRequestId, type ClientCode, type TenantId } from '../../src/domain/shared/ids';
import type { StorageUnderTest } from './contract-support';

/** The storage ports the execution suites exercise, plus every stored byte for leak scans. */
export interface ExecutionStorageUnderTest extends StorageUnderTest {
  readonly runs: ExecutionStore;
  readonly passwords: PasswordVault;
  /** Everything storage holds (every row of every table), as text, to scan for secrets. */
  storedText(): Promise<string>;
}

export type MakeExecutionStorage = () => Promise<ExecutionStorageUnderTest>;

const CODE = 'CONTOSO' as ClientCode;

/** A queued run of request `requestNumber` (made with contract-support's `request`, code CONTOSO). */
export function run(
  tenantId: TenantId,
  requestNumber: number,
  runNumber = 1,
  overrides: Partial<ExecutionRun> = {},
): ExecutionRun {
  return {
    id: formatRunId(requestNumber, runNumber),
    tenantId,
    requestId: formatRequestId(CODE, requestNumber),
    requestVersion: 1,
    kind: 'execute',
    status: 'queued',
    startedBy: { tid: tenantId, oid: randomUUID() as never, name: 'Tina Tech' },
    options: { autoReply: 'I have left the company.' },
    steps: [],
    checklist: [],
    createdAt: '2026-11-23T09:00:00.000Z',
    updatedAt: '2026-11-23T09:00:00.000Z',
    ...overrides,
  };
}

export function executeMessage(run: ExecutionRun): GraphExecuteMessage {
  return { kind: 'graph.execute', requestId: run.requestId, runId: run.id };
}

/** One group-removal step with random ids, as an offboarding plan has one per membership. */
function groupStep(index: number): PlanStep {
  const userId = randomUUID();
  const groupId = randomUUID();
  return {
    id: `group-${index}`,
    title: `Remove the user from group ${randomBytes(12).toString('hex')}`,
    forward: { kind: 'group.remove', groupId, userId, relation: 'member' },
    verify: { kind: 'user.inGroup', userId, groupId, relation: 'member', expected: false },
    compensation: { kind: 'group.add', groupId, userId, relation: 'member' },
    prior: { member: true, note: randomBytes(24).toString('base64') },
    wave: 1 + (index % 3),
  };
}

function planOf(requestNumber: number, steps: readonly PlanStep[]): ExecutionPlan {
  return {
    requestId: formatRequestId(CODE, requestNumber),
    requestVersion: 1,
    type: 'offboard',
    subject: { userPrincipalName: 'sam@contoso.example', displayName: 'Sam Smith' },
    steps,
    pointOfNoReturn: steps.length,
    checklist: [],
    notes: [],
  };
}

function withPlan(base: ExecutionRun, steps: readonly PlanStep[]): ExecutionRun {
  const progress: StepProgress[] = steps.map((s) => ({ id: s.id, status: 'pending', attempts: 0 }));
  return { ...base, status: 'running', plan: planOf(1, steps), steps: progress };
}

function compressedSize(value: ExecutionRun): number {
  return gzipSync(Buffer.from(JSON.stringify(value), 'utf8')).length;
}

/** Plan steps that make a run's compressed record this large; built once, they cost a second to find. */
const stepsBySize = new Map<'near' | 'over', readonly PlanStep[]>();

function stepsFor(size: 'near' | 'over', base: ExecutionRun): readonly PlanStep[] {
  const known = stepsBySize.get(size);
  if (known) return known;
  const steps: PlanStep[] = [];
  const target = size === 'near' ? 0.95 * MAX_STORED_RUN_BYTES : MAX_STORED_RUN_BYTES + 2_000;
  for (;;) {
    const missing = target - compressedSize(withPlan(base, steps));
    if (missing <= 0) break;
    const more = Math.max(5, Math.floor(missing / 250));
    for (let i = 0; i < more; i += 1) steps.push(groupStep(steps.length));
  }
  stepsBySize.set(size, steps);
  return steps;
}

/** A run whose compressed record is just under the stores' limit, of hard-to-compress steps (random ids). */
export function runNear(base: ExecutionRun): ExecutionRun {
  const near = withPlan(base, stepsFor('near', base));
  const size = compressedSize(near);
  if (size > MAX_STORED_RUN_BYTES || size < 0.9 * MAX_STORED_RUN_BYTES)
    throw new Error(`The near-limit run came out at ${size} bytes; adjust the margin.`);
  return near;
}

/** A run just over the stores' limit. */
export function runOverLimit(base: ExecutionRun): ExecutionRun {
  const over = withPlan(base, stepsFor('over', base));
  if (compressedSize(over) <= MAX_STORED_RUN_BYTES)
    throw new Error('The over-limit run came out under the limit; adjust the margin.');
  return over;
}
