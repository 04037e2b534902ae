/**
 * The runtime a benchmark runs on, and how to start a script on the same runtime.
 *
 * @module
 */

import process from "node:process";
import { detectRuntime, type Runtime } from "../src/runtime/detect.ts";

/** A runtime and its version. */
export interface RuntimeInfo {
  readonly name: Runtime;
  readonly version: string;
}

/** This runtime: `deno`, `bun` or `node`, with its version. */
export function runtimeInfo(): RuntimeInfo {
  const name = detectRuntime();
  const versions = process.versions as Record<string, string | undefined>;
  return { name, version: versions[name] ?? "unknown" };
}

/** The command line that runs the TypeScript file `file` with this runtime. */
export function scriptCommand(file: string): [string, string[]] {
  return detectRuntime() === "deno"
    ? [process.execPath, ["run", "-A", file]]
    : [process.execPath, [file]];
}
