/** The execution use cases the tab and the bot call, and the worker the composition root wires to the relay. */
export {
  previewExecution,
  type ExecutionPreview,
  type PreviewExecutionCommand,
} from './preview-execution';
export { startExecution, type StartExecutionCommand } from './start-execution';
export { listExecutions } from './list-executions';
export { rollBackExecution, type RollBackExecutionCommand } from './roll-back-execution';
export { tickChecklistItem, type TickChecklistItemCommand } from './tick-checklist-item';
export {
  revealTemporaryPassword,
  type RevealTemporaryPasswordCommand,
} from './reveal-temporary-password';
export { ExecutionWorker } from './execution-worker';
export type { ExecutionDeps, ExecutionSettings } from './execution-deps';
