export { type ConfigOptions, parseConfig } from './config-file.js';
export { configDocs } from './docs.js';
export type { Env } from './interpolate.js';
export { type ConfigIssue, issuesError } from './issues.js';
export { checkYamlText, loadYamlFile, parseYamlText, type YamlLoadOptions } from './load-yaml.js';
export {
  CONFIG_FILE,
  findProjectDir,
  type LoadProjectOptions,
  loadProject,
  type Project,
} from './project.js';
export { projectPath } from './resolve.js';
export { type ScaffoldOptions, scaffoldProject } from './scaffold.js';
export {
  type AuthConfig,
  type BusConfig,
  type EngineConfig,
  type EnvironmentConfig,
  LOG_LEVELS,
  type LogConfig,
  type MetastoreConfig,
  type OrchestratorConfig,
  type PgwireConfig,
  type ServerConfig,
  type SluiceConfig,
  type StorageConfig,
  sluiceConfigSchema,
} from './schema.js';
export {
  readTemplateRecord,
  TEMPLATE_RECORD,
  TEMPLATES,
  type TemplateRecord,
  type TemplateStatus,
  templateStatus,
  type UpgradeReport,
  upgradeProject,
} from './template.js';
export { parseDuration, parseSize } from './units.js';
export { MAX_CONFIG_BYTES, readConfigText } from './yaml-source.js';
