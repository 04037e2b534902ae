/**
 * Counts the timers created while a function runs, to prove that none is left behind.
 *
 * @module
 */

type Handle = unknown;

/**
 * Runs `fn` with setTimeout, setInterval and setImmediate tracked, and returns how many of the
 * timers it created were still pending (neither fired nor cleared) when it finished.
 */
export async function pendingTimersAfter(fn: () => Promise<void>): Promise<number> {
  const g = globalThis as unknown as Record<string, (...args: unknown[]) => Handle>;
  const originals = {
    setTimeout: g.setTimeout!,
    clearTimeout: g.clearTimeout!,
    setInterval: g.setInterval!,
    clearInterval: g.clearInterval!,
    setImmediate: g.setImmediate!,
    clearImmediate: g.clearImmediate!,
  };
  const pending = new Set<Handle>();
  const track =
    (create: (...args: unknown[]) => Handle, repeats: boolean) =>
    (callback: unknown, ...rest: unknown[]): Handle => {
      const wrapped = (...args: unknown[]): void => {
        if (!repeats) pending.delete(handle);
        (callback as (...a: unknown[]) => void)(...args);
      };
      const handle = create(wrapped, ...rest);
      pending.add(handle);
      return handle;
    };
  const untrack = (clear: (handle: Handle) => Handle) => (handle: Handle): Handle => {
    pending.delete(handle);
    return clear(handle);
  };
  g.setTimeout = track(originals.setTimeout, false);
  g.setInterval = track(originals.setInterval, true);
  g.setImmediate = track(originals.setImmediate, false);
  g.clearTimeout = untrack(originals.clearTimeout);
  g.clearInterval = untrack(originals.clearInterval);
  g.clearImmediate = untrack(originals.clearImmediate);
  try {
    await fn();
  } finally {
    Object.assign(g, originals);
  }
  return pending.size;
}
