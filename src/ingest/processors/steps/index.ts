/** Every processor implementation, by key. */
import type { ProcessorKind, ProcessorOptions } from '../schema.js';
import type { StepImpl } from '../step.js';
import { deriveStep, dropStep, filterStep, renameStep, selectStep, sqlStep } from './columns.js';
import { dedupeStep, maskStep } from './dedupe-mask.js';
import { flattenStep } from './flatten.js';
import { phoneStep } from './phone.js';
import { tsStep } from './ts.js';
import { castStep, validateStep } from './validate.js';

/** The implementation of each processor. */
export const STEPS: { [K in ProcessorKind]: StepImpl<ProcessorOptions<K>> } = {
  validate: validateStep,
  cast: castStep,
  select: selectStep,
  rename: renameStep,
  drop: dropStep,
  filter: filterStep,
  derive: deriveStep,
  flatten: flattenStep,
  dedupe: dedupeStep,
  phone: phoneStep,
  mask: maskStep,
  sql: sqlStep,
  ts: tsStep,
};
