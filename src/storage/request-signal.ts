/**
 * Every S3 request in flight adds abort listeners to the signal it is given, so one caller
 * signal shared by many concurrent requests (a scan resolving 16 files at once) would carry
 * dozens of listeners and trip Node's `MaxListenersExceededWarning`. Each request gets its own
 * signal instead; all the requests of one caller signal follow it through a single listener,
 * which is removed as soon as none of them is in flight.
 */
const followers = new WeakMap<AbortSignal, Follow>();

interface Follow {
  controllers: Set<AbortController>;
  onAbort: () => void;
}

/** A signal for one request that aborts with `parent`; call `release` when the request has ended. */
export interface RequestSignal {
  signal: AbortSignal | undefined;
  release(): void;
}

export function requestSignal(parent: AbortSignal | undefined): RequestSignal {
  if (!parent) return { signal: undefined, release: () => {} };
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => {} };
  }
  let follow = followers.get(parent);
  if (!follow) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      followers.delete(parent);
      for (const c of controllers) c.abort(parent.reason);
      controllers.clear();
    };
    follow = { controllers, onAbort };
    followers.set(parent, follow);
    parent.addEventListener('abort', onAbort, { once: true });
  }
  const f = follow;
  f.controllers.add(controller);
  let released = false;
  return {
    signal: controller.signal,
    release() {
      if (released) return;
      released = true;
      f.controllers.delete(controller);
      if (f.controllers.size === 0 && followers.get(parent) === f) {
        followers.delete(parent);
        parent.removeEventListener('abort', f.onAbort);
      }
    },
  };
}

/** Run `fn` with a request signal following `parent`, released when `fn` settles. */
export async function withRequestSignal<T>(
  parent: AbortSignal | undefined,
  fn: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const r = requestSignal(parent);
  try {
    return await fn(r.signal);
  } finally {
    r.release();
  }
}
