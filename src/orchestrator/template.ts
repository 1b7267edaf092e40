/**
 * Values resolved when a task runs: `${VAR}` from the environment of the process running
 * it, and `{{ ds }}`-style templates from the run. Unknown `{{ ... }}` expressions (such as a
 * model's `{{ ref('x') }}`) are left for the task kind.
 */

/** What templates can refer to. */
export interface TemplateContext {
  runId: string;
  pipeline: string;
  taskId: string;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  params: Record<string, string>;
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace `${VAR}` / `${VAR:-default}` in every string of `value`; `$${` is a literal `${`. */
export function expandEnv<T>(value: T, env: Record<string, string | undefined>): T {
  return mapStrings(value, (s) =>
    s.replace(ENV_REF, (m, name: string | undefined, fallback: string | undefined) =>
      m === '$${' ? '${' : (env[name ?? ''] ?? fallback ?? ''),
    ),
  );
}

const TEMPLATE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*\}\}/g;

/** The variables of a run: ds, ds_nodash, data_interval_start/end, run_id, pipeline, task_id, params.x. */
export function templateVariables(ctx: TemplateContext): Record<string, string> {
  const ds = ctx.dataIntervalStart.toISOString().slice(0, 10);
  return {
    ds,
    ds_nodash: ds.replaceAll('-', ''),
    data_interval_start: ctx.dataIntervalStart.toISOString(),
    data_interval_end: ctx.dataIntervalEnd.toISOString(),
    logical_date: ctx.dataIntervalStart.toISOString(),
    run_id: ctx.runId,
    pipeline: ctx.pipeline,
    task_id: ctx.taskId,
  };
}

/** Render the known templates in every string of `value`. */
export function renderTemplates<T>(value: T, ctx: TemplateContext): T {
  const vars = templateVariables(ctx);
  return mapStrings(value, (s) =>
    s.replace(TEMPLATE, (m, name: string, field: string | undefined) => {
      if (name === 'params' && field !== undefined) return ctx.params[field] ?? m;
      if (field === undefined && name in vars) return vars[name] ?? m;
      return m;
    }),
  );
}

function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out as T;
  }
  return value;
}
