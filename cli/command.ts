/**
 * The shape of a command, the target flags the operator's commands share, and the helpers they
 * use to open the target and print.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import process from "node:process";
import { type Env, type Flag, type Parsed, setting, UsageError, wholeNumber } from "./args.ts";
import { isHttpUrl, openTarget, type Target } from "./target.ts";

/** What a command runs with. */
export interface Context extends Parsed {
  readonly env: Env;
}

/** A command of `qite`. */
export interface Command {
  readonly name: string;
  /** Its arguments, for the usage line: `<queue> [ids…]`. */
  readonly args: string;
  /** One line, for `qite --help`. */
  readonly summary: string;
  /** The text of `qite NAME --help` after the usage line and before the flags. */
  readonly about: string;
  /** Its flags. */
  readonly flags: Readonly<Record<string, Flag>>;
  /** Their help: `["--limit N", "the most messages (10)"]`. */
  readonly flagHelp: readonly (readonly [string, string])[];
  /**
   * Runs it; resolves to the exit status, or to `undefined` when the process keeps running
   * (`serve`).
   */
  run(context: Context): Promise<number | undefined>;
}

/** The flags that name the target, shared by the operator's commands. */
export const TARGET_FLAGS: Readonly<Record<string, Flag>> = {
  db: { type: "string" },
  schema: { type: "string" },
  token: { type: "string" },
  timeout: { type: "string" },
  "max-receive": { type: "string" },
  json: { type: "boolean" },
};

/** Their help lines. */
export const TARGET_HELP: readonly (readonly [string, string])[] = [
  [
    "--db PATH|URL",
    "a SQLite file, a postgres:// URL or a server's http:// URL [QITE_DB] (qite.db)",
  ],
  ["--schema NAME", "the PostgreSQL schema of the goqite table [QITE_SCHEMA] (the search path)"],
  ["--token SECRET", "the server's bearer token [QITE_TOKEN]"],
  ["--timeout MS", "the queues' visibility timeout, for a database [QITE_TIMEOUT] (5000)"],
  ["--max-receive N", "the queues' maximum receive count, for a database [QITE_MAX_RECEIVE] (3)"],
  ["--json", "prints JSON instead of a table"],
];

/** Opens the target the flags (or the environment) name, runs `fn`, and closes it. */
export async function withTarget<T>(
  command: string,
  { values, env }: Context,
  fn: (target: Target) => Promise<T>,
): Promise<T> {
  const db = setting(values, "db", env, "QITE_DB") ?? "qite.db";
  // Against a server, QITE_TIMEOUT and QITE_MAX_RECEIVE are the server's own settings: only the
  // flags count (and are refused).
  const names = (name: string): string[] => isHttpUrl(db) ? [] : [name];
  const timeout = setting(values, "timeout", env, ...names("QITE_TIMEOUT"));
  const maxReceive = setting(values, "max-receive", env, ...names("QITE_MAX_RECEIVE"));
  const target = await openTarget(command, {
    db,
    schema: setting(values, "schema", env, "QITE_SCHEMA"),
    token: setting(values, "token", env, "QITE_TOKEN"),
    ...(timeout === undefined ? {} : { timeout: wholeNumber(command, "timeout", timeout, 1) }),
    ...(maxReceive === undefined
      ? {}
      : { maxReceive: wholeNumber(command, "max-receive", maxReceive, 1) }),
  });
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

/**
 * The positionals after checking their count: the queue name first.
 *
 * @throws {UsageError} If there are too few or too many.
 */
export function positionals(
  command: string,
  { positionals }: Context,
  min: number,
  max: number,
): string[] {
  if (positionals.length < min) {
    throw new UsageError(min === 1 ? "a queue name is missing" : "an argument is missing", command);
  }
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`, command);
  }
  return positionals;
}

/** Prints a line (or lines) on standard output. */
export function print(text: string): void {
  console.log(text);
}

/** Prints a value as JSON on standard output, two-space indented. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Prints a note on standard error (never data). */
export function note(text: string): void {
  console.error(`qite: ${text}`);
}

/** The process's environment. */
export function environment(): Env {
  return process.env;
}
