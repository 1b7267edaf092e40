import { relative } from 'node:path';
import { checkBackends } from '../../runtime/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';

export default async function status(_args: unknown[], globals: GlobalOptions): Promise<number> {
  const { project, log, out } = await openCommand(globals);
  const backends = await checkBackends(project, log);
  const healthy = backends.every((b) => b.ok);
  const files = project.files;
  out.result({
    project: {
      name: project.config.name,
      dir: project.dir,
      environment: globals.env ?? process.env.SLUICE_ENV ?? null,
    },
    files: { pipelines: files.pipelines.length, models: files.models.length, events: files.events.length },
    server: project.config.server,
    bus: project.config.bus,
    backends,
    healthy,
  });
  out.line(`project  ${project.config.name}  (${project.dir})`);
  out.line(`config   ${relative(process.cwd(), project.file) || project.file}: valid`);
  out.line(
    `files    ${files.pipelines.length} pipelines, ${files.models.length} models, ${files.events.length} event types`,
  );
  out.line(`bus      ${project.config.bus.log}`);
  out.line(
    `server   http ${project.config.server.host}:${project.config.server.http}, postgres wire :${project.config.server.pg}`,
  );
  out.line('');
  out.line(
    formatTable(
      backends.map((b) => [b.name, b.ok ? 'ok' : 'FAILED', b.url, b.detail]),
      { header: ['backend', 'state', 'url', 'detail'] },
    ),
  );
  await log.flush?.();
  return healthy ? 0 : 1;
}
