/** `sluice models list|show|compile|build` and `sluice test`. */
import type { Command } from 'commander';
import { openEngine } from '../../engine/index.js';
import {
  buildAndTest,
  buildOrder,
  Compiler,
  deployModels,
  loadModelsProject,
  type ModelsProject,
  modelsDirOf,
  type NodeResult,
  relationOf,
  runTests,
  selectNodes,
  type TestResult,
} from '../../models/index.js';
import { openRuntime } from '../../runtime/index.js';
import { InvalidInputError } from '../../util/index.js';
import { type CommandContext, openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';
import { parsePositive } from './orchestrator-common.js';

interface Flags {
  dir?: string;
  select?: string[];
  targetSchema?: string;
  fullRefresh?: boolean;
  skipTests?: boolean;
  threads?: string;
  incremental?: boolean;
}

function load(ctx: CommandContext, flags: Flags): ModelsProject {
  return loadModelsProject(modelsDirOf(ctx.project.dir, flags.dir), {
    targetSchema: flags.targetSchema,
    environment: ctx.project.environment,
  });
}

function list(ctx: CommandContext, project: ModelsProject, flags: Flags): number {
  const names = buildOrder(project, selectNodes(project, flags.select));
  const rows = names.map((n) => {
    const node = project.nodes.get(n)!;
    const materialized = node.kind === 'seed' ? 'seed' : node.config.materialized;
    return {
      name: n,
      kind: node.kind,
      materialized,
      relation: materialized === 'ephemeral' ? null : relationOf(node),
      tags: node.config.tags,
      path: node.path,
    };
  });
  ctx.out.result(rows);
  ctx.out.line(
    formatTable(
      rows.map((r) => [r.name, r.materialized, r.relation ?? '(inlined)', r.tags.join(','), r.path]),
      { header: ['NAME', 'MATERIALIZED', 'TABLE', 'TAGS', 'PATH'] },
    ),
  );
  return 0;
}

function show(ctx: CommandContext, project: ModelsProject, name: string): number {
  const node = project.nodes.get(name);
  if (!node)
    throw new InvalidInputError(`no model or seed named "${name}"`, 'list them with `sluice models list`');
  const compiled = node.kind === 'model' ? new Compiler(project).compile(node) : undefined;
  const tests = project.tests
    .filter((t) => t.attachedTo === name || t.refs.includes(name))
    .map((t) => t.name);
  const info = {
    name,
    kind: node.kind,
    path: node.path,
    relation: node.config.materialized === 'ephemeral' && node.kind === 'model' ? null : relationOf(node),
    config: node.config,
    description: node.description ?? null,
    refs: node.refs,
    sources: node.sources,
    columns: node.columns,
    tests,
    compiled: compiled ?? null,
  };
  ctx.out.result(info);
  ctx.out.line(`${node.kind} ${name} (${node.path})`);
  if (info.relation) ctx.out.line(`table:         ${info.relation}`);
  ctx.out.line(`materialized:  ${node.kind === 'seed' ? 'seed' : node.config.materialized}`);
  if (node.config.uniqueKey) ctx.out.line(`unique_key:    ${node.config.uniqueKey.join(', ')}`);
  if (node.config.tags.length) ctx.out.line(`tags:          ${node.config.tags.join(', ')}`);
  if (node.description) ctx.out.line(`description:   ${node.description}`);
  if (node.refs.length) ctx.out.line(`refs:          ${node.refs.join(', ')}`);
  if (node.sources.length) ctx.out.line(`sources:       ${node.sources.join(', ')}`);
  for (const c of node.columns) ctx.out.line(`column ${c.name}${c.description ? `: ${c.description}` : ''}`);
  for (const t of tests) ctx.out.line(`test ${t}`);
  if (compiled) ctx.out.line(`\n${compiled}`);
  return 0;
}

function compile(ctx: CommandContext, project: ModelsProject, flags: Flags): number {
  const compiler = new Compiler(project);
  const out: { name: string; relation: string | null; sql: string }[] = [];
  for (const name of buildOrder(project, selectNodes(project, flags.select))) {
    const node = project.nodes.get(name)!;
    if (node.kind !== 'model') continue;
    const sql = compiler.compile(node, { isIncremental: flags.incremental });
    const relation = node.config.materialized === 'ephemeral' ? null : relationOf(node);
    out.push({ name, relation, sql });
    ctx.out.line(`-- ${name}${relation ? ` → ${relation}` : ' (ephemeral)'} (${node.path})\n${sql};\n`);
  }
  ctx.out.result(out);
  return 0;
}

function printModels(ctx: CommandContext, models: NodeResult[]): void {
  ctx.out.line(
    formatTable(
      models.map((m) => [
        m.status.toUpperCase(),
        m.name,
        m.materialized + (m.incremental ? ' (incremental)' : ''),
        m.relation ?? '',
        m.rows === undefined ? '' : String(m.rows),
        `${m.ms}ms`,
      ]),
      { header: ['STATUS', 'MODEL', 'MATERIALIZED', 'TABLE', 'ROWS', 'TIME'] },
    ),
  );
  for (const m of models) if (m.error) ctx.out.note(`${m.status}: ${m.name}: ${m.error}`);
}

function printTests(ctx: CommandContext, tests: TestResult[]): void {
  if (tests.length === 0) return;
  ctx.out.line();
  ctx.out.line(
    formatTable(
      tests.map((t) => [
        t.status.toUpperCase(),
        t.name,
        t.failures ? String(t.failures) : '',
        t.failuresTable ?? t.message ?? '',
      ]),
      { header: ['STATUS', 'TEST', 'FAILURES', 'DETAIL'] },
    ),
  );
}

function failed(models: NodeResult[], tests: TestResult[]): boolean {
  return (
    models.some((m) => m.status !== 'success') ||
    tests.some((t) => t.status === 'fail' || t.status === 'error')
  );
}

export default async function models(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const ctx = await openCommand(globals);
  const flags = cmd.opts<Flags>();
  const project = load(ctx, flags);
  const sub = cmd.name();
  if (sub === 'list') return list(ctx, project, flags);
  if (sub === 'show') return show(ctx, project, args[0] as string);
  if (sub === 'compile') return compile(ctx, project, flags);
  // Validate the selection before opening anything.
  selectNodes(project, flags.select);
  const runtime = await openRuntime(ctx.project, ctx.log);
  try {
    if (sub === 'deploy') {
      const result = await deployModels(runtime, project, {
        select: flags.select,
        fullRefresh: flags.fullRefresh,
        threads: parsePositive(flags.threads, '--threads', 4),
      });
      ctx.out.result(result);
      printModels(ctx, result.models);
      printTests(ctx, result.tests);
      if (result.ok) {
        ctx.out.line(`\ndeployed ${result.deployId}: switched in one transaction`);
        for (const r of result.switched)
          ctx.out.line(
            `  ${r.relation} (${r.kind}) ${r.previousSnapshotId ?? '-'} → ${r.snapshotId ?? 'new version'}`,
          );
      } else ctx.out.line(`\ndeploy failed (${result.error ?? 'unknown'}): production was not changed`);
      return result.ok ? 0 : 1;
    }
    if (sub === 'build') {
      const threads = parsePositive(flags.threads, '--threads', 4);
      const { models, tests } = await buildAndTest(runtime, project, {
        select: flags.select,
        fullRefresh: flags.fullRefresh,
        test: !flags.skipTests,
        threads,
        onEvent: (e) => {
          if (e.status === 'started') ctx.out.note(`building ${e.name}`);
        },
      });
      ctx.out.result({ models, tests });
      printModels(ctx, models);
      printTests(ctx, tests);
      return failed(models, tests) ? 1 : 0;
    }
    const engine = await openEngine(runtime, { fileAccess: 'lake' });
    try {
      const tests = await runTests(engine, project, { select: flags.select });
      ctx.out.result({ tests });
      printTests(ctx, tests);
      return failed([], tests) ? 1 : 0;
    } finally {
      await engine.close();
    }
  } finally {
    await runtime.close();
  }
}
