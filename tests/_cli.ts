/**
 * Runs `qite` (http/cli.ts) as a child process of this runtime, as a user runs it, and collects
 * what it prints and its exit status.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { runtimeCommand } from "./_helpers.ts";

const CLI = fileURLToPath(new URL("../http/cli.ts", import.meta.url));

/** What a run of `qite` did. */
export interface Run {
  /** The exit status. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for {@linkcode qite}. */
export interface QiteOptions {
  /** Variables added to (or, as `undefined`, removed from) the environment. */
  env?: Record<string, string | undefined>;
  /** Standard input's bytes; none (closed) by default. */
  stdin?: Uint8Array | string;
  /**
   * Reads nothing of standard output for this many ms, as a slow reader at the other end of a
   * pipe would, so that the pipe fills up.
   */
  slowReader?: number;
}

/** The environment without the variables that qite reads, so that the caller's do not leak in. */
function cleanEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("QITE_")) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs `qite ...args` with this runtime and waits for it to exit (60 s at most). */
export function qite(args: readonly string[], options: QiteOptions = {}): Promise<Run> {
  const [exe, prefix] = runtimeCommand(CLI);
  const child = spawn(exe, [...prefix, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: cleanEnv({ NO_COLOR: "1", ...options.env }),
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => stdout += chunk);
  if (options.slowReader !== undefined) {
    child.stdout!.pause();
    setTimeout(() => child.stdout!.resume(), options.slowReader);
  }
  child.stderr!.on("data", (chunk: string) => stderr += chunk);
  child.stdin!.end(options.stdin ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`qite ${args.join(" ")} did not exit within 60 s:\n${stdout}${stderr}`));
    }, 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `qite ...args`, expects status 0 and returns its standard output. */
export async function ok(args: readonly string[], options?: QiteOptions): Promise<string> {
  const run = await qite(args, options);
  if (run.code !== 0) {
    throw new Error(`qite ${args.join(" ")} exited with ${run.code}:\n${run.stdout}${run.stderr}`);
  }
  return run.stdout;
}

/** Runs `qite ...args --json`, expects status 0 and returns the parsed output. */
export async function json(args: readonly string[], options?: QiteOptions): Promise<unknown> {
  return JSON.parse(await ok([...args, "--json"], options));
}

/**
 * The rows of an aligned table as objects keyed by heading. Columns are found where every line
 * has at least two spaces; a heading at the left of its column makes the column left-aligned
 * (every cell must start there), one at the right makes it right-aligned (every cell must end
 * there). Throws when a cell is out of line.
 */
export function readTable(text: string): Record<string, string>[] {
  const lines = text.replace(/\n$/, "").split("\n");
  const length = Math.max(...lines.map((line) => line.length));
  const blank = Array.from({ length }, (_, i) => lines.every((line) => (line[i] ?? " ") === " "));
  // A gutter is a blank with a blank beside it (past either end counts as blank); columns are
  // the runs between gutters.
  const gutter = (i: number): boolean =>
    blank[i]! && ((blank[i - 1] ?? true) || (blank[i + 1] ?? true));
  const columns: Array<[number, number]> = [];
  for (let i = 0; i < length; i++) {
    if (gutter(i)) continue;
    const start = i;
    while (i < length && !gutter(i)) i++;
    columns.push([start, i]);
  }
  const header = lines[0]!;
  const titles = columns.map(([a, b]) => header.slice(a, b).trim());
  if (titles.some((title) => title === "" || title.includes("  "))) {
    throw new Error(`the columns run together (headings ${JSON.stringify(titles)}):\n${text}`);
  }
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    columns.forEach(([a, b], i) => {
      const title = titles[i]!;
      const left = (header[a] ?? " ") !== " ";
      const right = (header[b - 1] ?? " ") !== " ";
      const cell = line.slice(a, b);
      const value = cell.trim();
      const aligned = value === "" || (left && cell.startsWith(value)) ||
        (right && cell.endsWith(value));
      if (!aligned) {
        throw new Error(`${JSON.stringify(value)} is out of line under ${title}:\n${text}`);
      }
      row[title] = value;
    });
    return row;
  });
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
