/**
 * The package entry for code in a Sluice project: `import { definePipeline } from 'sluice'`
 * in `pipelines/*.ts`, and the types of task modules and task kinds.
 */
export {
  definePipeline,
  type PipelineInput,
  type RunModuleContext,
  type TaskInput,
} from './orchestrator/index.js';
export type { TaskContext, TaskKind, TaskProgress, TaskResult } from './runtime/tasks.js';
