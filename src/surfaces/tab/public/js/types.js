// @ts-check
/**
 * Shapes of the tab API's answers (src/surfaces/tab/tab-views.mapper.ts), for type checking only.
 *
 * @typedef {{ code: string, name: string, roles: string[] }} ClientMembership
 * @typedef {{ name: string, isMspStaff: boolean, clients: ClientMembership[] }} Me
 * @typedef {{
 *   id: string, clientCode: string, clientName: string, type: string, typeLabel: string,
 *   title: string, status: string, statusLabel: string, version: number, requester: string,
 *   updatedAt: string, executable: boolean
 * }} RequestSummary
 * @typedef {{ name: string, label: string, value: unknown }} Field
 * @typedef {RequestSummary & {
 *   description: string, createdAt: string, fields: Field[],
 *   approval?: { outcome: string, by: string, at: string, reason?: string },
 *   assignee?: string,
 *   failure?: { reason: string, by: string, at: string },
 *   closure?: { outcome: string, notes: string, by: string }
 * }} RequestDetail
 * @typedef {{
 *   seq: number, at: string, type: string, actor: string, status?: string, statusLabel?: string,
 *   text?: string, runId?: string, stepId?: string
 * }} TimelineEntry
 * @typedef {{
 *   id: string, title: string, wave: number, undoable: boolean,
 *   prior?: Record<string, unknown>,
 *   access?: { change: string, resourceId: string, resourceName: string, relation: string }
 * }} PlanStep
 * @typedef {{ id: string, title: string, detail: string, before?: string }} ChecklistItem
 * @typedef {{
 *   type: string, subject: { userPrincipalName: string, displayName: string },
 *   steps: PlanStep[], pointOfNoReturn: number, checklist: ChecklistItem[], notes: string[]
 * }} Plan
 * @typedef {{
 *   id: string, title: string, wave: number, status: string, attempts: number, undoable: boolean,
 *   failure?: string, startedAt?: string, finishedAt?: string
 * }} RunStep
 * @typedef {ChecklistItem & { done: boolean, by?: string, at?: string, note?: string }} RunChecklistItem
 * @typedef {{
 *   id: string, kind: 'execute' | 'rollback', rollbackOf?: string, status: string, final: boolean,
 *   reason?: string, startedBy: string, createdAt: string, finishedAt?: string, waitUntil?: string,
 *   planned: boolean, pointOfNoReturn?: number, steps: RunStep[], checklist: RunChecklistItem[],
 *   canRollBack: boolean, outcome?: RunOutcome
 * }} Run
 * @typedef {{
 *   failed: string[], inPlace: string[], undone: string[], notStarted: string[], doneByHand: string[]
 * }} RunOutcome
 * @typedef {{
 *   request: RequestDetail,
 *   viewer: { roles: string[], mayExecute: boolean, mayAssess: boolean, reviewOutcomes: string[] },
 *   timeline: TimelineEntry[], runs?: Run[], wizard?: { defaults: Record<string, unknown> },
 *   execution: 'available' | 'unavailable'
 * }} Detail
 * @typedef {{ field: string, message: string }} FieldIssue
 */
export {};
