/**
 * File change notifications (inotify on Linux, FSEvents on macOS, …) through `node:fs`'s
 * `watch`, which Node, Deno and Bun all offer. qite uses them to learn at once that another
 * process committed to a SQLite file, instead of polling fast.
 *
 * @module
 */

interface FsWatcher {
  close(): void;
  unref?(): void;
  on?(event: "error", listener: (error: unknown) => void): void;
}

interface NodeFs {
  watch(path: string, listener: () => void): FsWatcher;
  existsSync(path: string): boolean;
}

function nodeFs(): NodeFs | undefined {
  try {
    const process = (globalThis as { process?: { getBuiltinModule?(name: string): unknown } })
      .process;
    return process?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `onChange` (possibly many times per change, possibly for changes of this process too)
 * whenever the file at `path` is written. It does not keep the process alive.
 *
 * @param path The file; it must exist.
 * @param onChange Called on each change.
 * @param onError Called once if the watch fails later; it has stopped then.
 * @returns A function that stops watching, or `undefined` when this runtime or file system
 * cannot watch the file.
 */
export function watchFile(
  path: string,
  onChange: () => void,
  onError: () => void,
): (() => void) | undefined {
  const fs = nodeFs();
  if (fs === undefined || !fs.existsSync(path)) return undefined;
  let watcher: FsWatcher;
  try {
    watcher = fs.watch(path, onChange);
  } catch {
    return undefined;
  }
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      watcher.close();
    } catch {
      // Already gone.
    }
  };
  watcher.on?.("error", () => {
    close();
    onError();
  });
  try {
    watcher.unref?.();
  } catch {
    // Not every runtime can; the watch then keeps the process alive while waiters wait.
  }
  return close;
}
