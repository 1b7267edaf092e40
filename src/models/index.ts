// SQL models: dbt projects (Jinja models, schema.yml tests, seeds, sources) built on the lake.
export { type BuildOptions, buildModels, type NodeResult } from './build.js';
export { Compiler, relationOf } from './compile.js';
export { type DeployResult, deployModels } from './deploy.js';
export { JinjaError } from './jinja.js';
export { type LineageGraph, lineageOf } from './lineage.js';
export { environmentSchema, type LoadOptions, loadModelsProject, schemaName } from './project.js';
export { buildOrder, childrenOf, selectNodes } from './select.js';
export {
  buildAndTest,
  loadProjectModels,
  type ModelTaskSpec,
  modelsDirOf,
  modelTaskKind,
  modelTaskSchema,
} from './task.js';
export { failuresSchema, runTests, selectTests, type TestOptions, type TestResult } from './tests.js';
export type {
  DataTest,
  Materialization,
  ModelConfig,
  ModelNode,
  ModelsProject,
  SourceTable,
} from './types.js';
