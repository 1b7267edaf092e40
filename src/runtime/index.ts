import { join } from 'node:path';
import type { Project } from '../config/index.js';
import { type MetaStore, openMetaStore } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { type ObjectStore, openObjectStore } from '../storage/index.js';
import { errorMessage, redactText } from '../util/index.js';

/**
 * The backends of one project, opened once at the top (CLI command or server) and passed
 * down: areas never open their own connections.
 */
export interface Runtime {
  readonly project: Project;
  readonly log: Logger;
  readonly meta: MetaStore;
  readonly store: ObjectStore;
  close(): Promise<void>;
}

/** Open the metastore and object store a project's config names. */
export async function openRuntime(project: Project, log: Logger): Promise<Runtime> {
  const { config } = project;
  const meta = await openMetaStore(config.metastore.url, {
    busyTimeoutMs: config.metastore.busyTimeoutMs,
    poolMax: config.metastore.poolMax,
  });
  let store: ObjectStore;
  try {
    store = await openObjectStore(config.storage, { cacheDir: cacheDirOf(project) });
  } catch (err) {
    await meta.close();
    throw err;
  }
  return {
    project,
    log,
    meta,
    store,
    async close() {
      await Promise.allSettled([meta.close(), store.close()]);
    },
  };
}

/** One backend's state as `sluice status` and `/api/v1/health` report it. */
export interface BackendHealth {
  name: 'metastore' | 'storage';
  url: string;
  ok: boolean;
  detail: string;
}

/** Check the backends of an open runtime (the server's readiness check). */
export async function runtimeHealth(runtime: Runtime, timeoutMs = 5000): Promise<BackendHealth[]> {
  return healthOf(
    runtime.project,
    timeoutMs,
    async () => runtime.meta,
    async () => runtime.store,
    false,
  );
}

/** Open and check every backend the project configures (`sluice status`), each bounded by `timeoutMs`. */
export async function checkBackends(
  project: Project,
  log: Logger,
  timeoutMs = 5000,
): Promise<BackendHealth[]> {
  const { config } = project;
  const health = await healthOf(
    project,
    timeoutMs,
    () =>
      openMetaStore(config.metastore.url, {
        busyTimeoutMs: config.metastore.busyTimeoutMs,
        poolMax: 1,
        connectTimeoutMs: timeoutMs,
      }),
    () => openObjectStore(config.storage, { cacheDir: cacheDirOf(project) }),
    true,
  );
  log.debug({ backends: health.map((h) => ({ name: h.name, ok: h.ok })) }, 'backend health checked');
  return health;
}

async function healthOf(
  project: Project,
  timeoutMs: number,
  meta: () => Promise<MetaStore>,
  store: () => Promise<ObjectStore>,
  close: boolean,
): Promise<BackendHealth[]> {
  const { config } = project;
  const [m, s] = await Promise.all([
    withTimeout(timeoutMs, async () => {
      const ms = await meta();
      try {
        const h = await ms.health();
        return { ok: h.ok, detail: h.ok ? `${h.detail}, schema version ${h.schemaVersion}` : h.detail };
      } finally {
        if (close) await ms.close();
      }
    }),
    withTimeout(timeoutMs, async () => {
      const os = await store();
      try {
        return await os.health({ signal: AbortSignal.timeout(timeoutMs) });
      } finally {
        if (close) await os.close();
      }
    }),
  ]);
  return [
    { name: 'metastore', url: redactText(config.metastore.url), ...m },
    { name: 'storage', url: redactText(config.storage.url), ...s },
  ];
}

function cacheDirOf(project: Project): string {
  return project.config.storage.cache?.dir ?? join(project.dataDir, 'cache');
}

async function withTimeout(
  timeoutMs: number,
  fn: () => Promise<{ ok: boolean; detail: string }>,
): Promise<{ ok: boolean; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      fn().catch((err) => ({ ok: false, detail: redactText(errorMessage(err)) })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
