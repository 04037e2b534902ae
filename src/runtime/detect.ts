/**
 * Runtime detection and synchronous loading of the built-in SQLite drivers.
 *
 * Nothing here imports `bun:sqlite` or `@db/sqlite` statically: the built-in modules are loaded
 * with `process.getBuiltinModule`, which is synchronous in Node ≥ 22.3, Deno 2 and Bun.
 *
 * @module
 */

import type { BunSqliteModule } from "./bun_sqlite.ts";
import type { NodeSqliteModule } from "./node_sqlite.ts";
import type { DriverName } from "./types.ts";

/** The JavaScript runtimes qite tells apart. */
export type Runtime = "bun" | "deno" | "node";

interface ProcessLike {
  getBuiltinModule?: (name: string) => unknown;
  versions?: Record<string, string | undefined>;
}

function processObject(): ProcessLike | undefined {
  return (globalThis as { process?: ProcessLike }).process;
}

/**
 * Which runtime this is. Bun and Deno both pretend to be Node, so they are checked first.
 *
 * @returns `"bun"`, `"deno"` or `"node"`.
 */
export function detectRuntime(): Runtime {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return "node";
}

/** Loads a built-in module synchronously, or returns `undefined` when the runtime lacks it. */
function builtin(name: string): unknown {
  try {
    return processObject()?.getBuiltinModule?.(name);
  } catch {
    return undefined;
  }
}

/** Loads `node:sqlite`, or returns `undefined` when this runtime has none. */
export function loadNodeSqlite(): NodeSqliteModule | undefined {
  const mod = builtin("node:sqlite") as Partial<NodeSqliteModule> | undefined;
  return typeof mod?.DatabaseSync === "function" ? mod as NodeSqliteModule : undefined;
}

/** Loads `bun:sqlite`, or returns `undefined` outside Bun. */
export function loadBunSqlite(): BunSqliteModule | undefined {
  if (detectRuntime() !== "bun") return undefined;
  const mod = builtin("bun:sqlite") as Partial<BunSqliteModule> | undefined;
  return typeof mod?.Database === "function" ? mod as BunSqliteModule : undefined;
}

/**
 * The built-in drivers this runtime offers, fastest first: `bun:sqlite` then `node:sqlite` on
 * Bun, `node:sqlite` on Deno and Node.
 *
 * @returns The driver names, possibly empty.
 */
export function availableDrivers(): DriverName[] {
  const names: DriverName[] = [];
  if (loadBunSqlite()) names.push("bun:sqlite");
  if (loadNodeSqlite()) names.push("node:sqlite");
  return names;
}
