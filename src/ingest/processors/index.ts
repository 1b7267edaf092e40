/** Processors: the steps that clean records between an ingest source and its sink. */
import { applyChain } from './chain.js';
import { type ProcessorSpec, processorsSchema } from './schema.js';
import type { Processors } from './types.js';

export { parseSteps, stepLabel } from './chain.js';
export {
  PROCESSOR_KINDS,
  type ProcessorInput,
  type ProcessorKind,
  type ProcessorOptions,
  type ProcessorSpec,
  processorOptions,
  processorsSchema,
} from './schema.js';
export { PHONE_UDF, phoneE164, registerPhoneUdf } from './steps/phone.js';
export type { BatchFunction } from './steps/ts.js';
export {
  LINEAGE_COLUMNS,
  type ProcessorContext,
  type ProcessorOutput,
  type Processors,
} from './types.js';

/** The processors of ingest pipelines: schema of the `processors:` list and the chain runner. */
export const processors: Processors<ProcessorSpec> = {
  schema: processorsSchema,
  apply: applyChain,
};
