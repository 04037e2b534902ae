/**
 * Shared pieces of the reliability children: arguments, records, the stop file, sleeping.
 *
 * @module
 */

import { appendFileSync, existsSync } from "node:fs";

/** Reads `--key value` arguments. */
export function args(): Record<string, string> {
  const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i]!.replace(/^--/, "")] = argv[i + 1]!;
  return out;
}

/** Appends one JSON record per line; written at once, so a kill -9 loses nothing written. */
export function recorder(path: string): (record: Record<string, unknown>) => void {
  return (record) => appendFileSync(path, JSON.stringify(record) + "\n");
}

/** An AbortSignal that fires when `path` exists (the harness creates it to stop children). */
export function stopFile(path: string): AbortSignal {
  const controller = new AbortController();
  const timer = setInterval(() => {
    if (existsSync(path)) {
      clearInterval(timer);
      controller.abort(new Error("stop file"));
    }
  }, 20);
  return controller.signal;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The runtime this child runs on. */
export function runtime(): string {
  const versions = (globalThis as unknown as { process: { versions: Record<string, string> } })
    .process.versions;
  return versions.bun ? "bun" : versions.deno ? "deno" : "node";
}
