/**
 * Test helpers: every case runs against every driver this runtime offers, each with a fresh
 * file database in its own temporary directory, removed afterwards.
 *
 * Deno: node:sqlite, and @db/sqlite through a stand-in (see `_db_sqlite_standin.ts`: the real
 * package cannot be loaded here). Bun: bun:sqlite and node:sqlite. Node: node:sqlite.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database, type DriverName, open, setup } from "../mod.ts";
import { availableDrivers, detectRuntime } from "../src/runtime/detect.ts";
import { StandInDatabase } from "./_db_sqlite_standin.ts";
import type { Runner } from "../jobs/mod.ts";

/** A fake clock: tests move time by hand. */
export class FakeClock {
  /** Milliseconds since the epoch. */
  now: number = Date.parse("2026-11-24T12:00:00.000Z");
  /** The clock function to hand to a queue. */
  readonly fn = (): number => this.now;
  /** Moves time forward. */
  advance(ms: number): void {
    this.now += ms;
  }
}

/** What each test case gets. */
export interface Context {
  /** The driver under test. */
  readonly driver: DriverName;
  /** A fresh, set-up database on a file. */
  readonly db: Database;
  /** The database file's path. */
  readonly path: string;
  /** The temporary directory, removed after the test. */
  readonly dir: string;
  /** A fake clock. */
  readonly clock: FakeClock;
  /** Opens another connection to the same file with the same driver (closed after the test). */
  connect(): Database;
}

/** Opens `path` with the named driver, the way a user of that driver would. */
export function openWith(driver: DriverName, path: string): Database {
  if (driver === "@db/sqlite") {
    const db = Database.from(new StandInDatabase(path, { int64: true }));
    db.exec("pragma journal_mode = wal");
    return db;
  }
  return open(path, { driver });
}

/** The drivers this runtime offers for testing. */
export function testDrivers(): DriverName[] {
  const drivers: DriverName[] = availableDrivers();
  if (detectRuntime() === "deno") drivers.push("@db/sqlite");
  return drivers;
}

/** Makes a temporary directory; the caller removes it. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "qite-test-"));
}

/**
 * Declares one test per driver, named `${title} [driver]`.
 *
 * @param title The behaviour, as a sentence.
 * @param fn The test body.
 * @param only The drivers the behaviour concerns, when not every one.
 */
export function eachDriver(
  title: string,
  fn: (context: Context) => void | Promise<void>,
  only?: readonly DriverName[],
): void {
  for (const driver of testDrivers()) {
    if (only !== undefined && !only.includes(driver)) continue;
    test(`${title} [${driver}]`, async () => {
      const dir = tempDir();
      const path = join(dir, "test.db");
      const opened: Database[] = [];
      const connect = (): Database => {
        const db = openWith(driver, path);
        opened.push(db);
        return db;
      };
      try {
        const db = connect();
        setup(db);
        await fn({ driver, db, path, dir, clock: new FakeClock(), connect });
      } finally {
        for (const db of opened) db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

const decoder = new TextDecoder();

/** Decodes a body as UTF-8. */
export function text(body: Uint8Array): string {
  return decoder.decode(body);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a job runner; returns a function that stops it and waits until it has stopped. */
export function run(runner: Runner): () => Promise<void> {
  const controller = new AbortController();
  const done = runner.start({ signal: controller.signal });
  return async () => {
    controller.abort();
    await done;
  };
}

/** Resolves when `check` is true, polling; fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(2);
  }
}

/**
 * The command line that runs a TypeScript file with this runtime (on Node, with this process's
 * flags: Node 22 needs `--experimental-strip-types`).
 */
export function runtimeCommand(file: string): [string, string[]] {
  const { execPath, execArgv } = (globalThis as {
    process?: { execPath: string; execArgv: string[] };
  }).process!;
  const runtime = detectRuntime();
  if (runtime === "deno") return [execPath, ["run", "-A", file]];
  if (runtime === "node") {
    const flags = execArgv.filter((flag) =>
      /^--(experimental-strip-types|disable-warning)/.test(flag)
    );
    return [execPath, [...flags, file]];
  }
  return [execPath, [file]];
}

/**
 * Runs `file` with this runtime and `args` until it exits; resolves with its standard output,
 * trimmed, or rejects with its standard error when it exits with another code than 0.
 */
export function runScript(file: string, args: readonly string[]): Promise<string> {
  const [exe, prefix] = runtimeCommand(file);
  return new Promise((resolve, reject) => {
    const proc = spawn(exe, [...prefix, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk) => stdout += chunk);
    proc.stderr.on("data", (chunk) => stderr += chunk);
    proc.on("error", reject);
    proc.on("close", (code) => {
      if (code === 0) resolve(stdout.trim());
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}
