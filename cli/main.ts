/**
 * `qite`'s top level: picks the command, prints help, and turns every failure into one line on
 * standard error and an exit status: 2 for a mistake in the command line (or a value the queue
 * refuses), 1 for anything else (an unreachable target, a database error).
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { HttpError } from "../http/client.ts";
import { QueueError } from "../src/errors.ts";
import { oneLine, parseCommand, UsageError } from "./args.ts";
import { type Command, environment } from "./command.ts";
import { dead, peek, stats } from "./inspect.ts";
import { purgeDead, receive, redrive, send } from "./change.ts";
import { serve } from "./serve.ts";

/** Every command, in the order `qite --help` lists them. */
export const COMMANDS: readonly Command[] = [
  serve,
  stats,
  peek,
  dead,
  redrive,
  purgeDead,
  send,
  receive,
];

const TOP_HELP = (): string =>
  [
    "qite: a persistent message queue on SQLite or PostgreSQL, in goqite's table",
    "",
    "usage: qite <command> [arguments] [flags]",
    "       qite [serve flags]            (no command: serve)",
    "",
    "commands:",
    ...aligned(COMMANDS.map((c) => [`${c.name} ${c.args}`.trim(), c.summary])),
    "",
    "Every command but serve acts on --db: a SQLite file, a postgres:// URL or the http:// URL",
    "of a running qite server (QITE_DB; qite.db by default). Tables by default, JSON with --json.",
    "qite <command> --help tells more about each.",
  ].join("\n");

function commandHelp(command: Command): string {
  return [
    `usage: qite ${command.name}${command.args === "" ? "" : ` ${command.args}`} [flags]`,
    "",
    command.about,
    "",
    "flags (environment variables in brackets, defaults in parentheses):",
    ...aligned([...command.flagHelp, ["-h, --help", "prints this help"]]),
  ].join("\n");
}

function aligned(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length), "-h, --help".length);
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

/**
 * Runs `qite` with `args` (the arguments after the program's name).
 *
 * @returns The exit status, or `undefined` while a server keeps running.
 */
export async function main(args: readonly string[]): Promise<number | undefined> {
  const first = args[0];
  if (first === undefined || (first.startsWith("-") && !isHelp(first))) {
    return await run(serve, args);
  }
  if (isHelp(first) || first === "help") {
    const topic = COMMANDS.find((c) => c.name === args[1]);
    if (topic === undefined && args[1] !== undefined && first === "help") {
      return fail(new UsageError(`unknown command ${JSON.stringify(args[1])}`));
    }
    console.log(topic === undefined ? TOP_HELP() : commandHelp(topic));
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    return fail(new UsageError(`unknown command ${JSON.stringify(first)}`));
  }
  return await run(command, args.slice(1));
}

function isHelp(arg: string): boolean {
  return arg === "--help" || arg === "-h";
}

async function run(command: Command, args: readonly string[]): Promise<number | undefined> {
  try {
    const parsed = parseCommand(command.name, args, command.flags);
    if (parsed.values.help === true) {
      console.log(commandHelp(command));
      return 0;
    }
    return await command.run({ ...parsed, env: environment() });
  } catch (error) {
    return fail(error, command.name);
  }
}

/**
 * The error's message, with what the operator needs that it leaves out: the innermost cause of
 * a network failure (Node's fetch says only "fetch failed"), and who creates a missing table.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message;
  if (error instanceof QueueError && error.code === "NETWORK") {
    let cause: unknown = error.cause;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    if (cause instanceof Error && !message.includes(cause.message)) {
      message += ` (${cause.message})`;
    }
  }
  if (error instanceof QueueError && error.code === "NOT_SET_UP") {
    message += "; qite serve creates the table";
  }
  return message;
}

/** Prints the failure as one line; QITE_DEBUG=1 adds the stack. */
function fail(error: unknown, command?: string): number {
  // A value the queue refuses, here or at the server, is a mistake in the command line too.
  const usage = error instanceof UsageError || error instanceof TypeError ||
    error instanceof RangeError || (error instanceof HttpError && error.status === 400);
  const message = describe(error);
  const topic = error instanceof UsageError ? error.command ?? command : undefined;
  const hint = error instanceof UsageError
    ? ` (see qite ${topic === undefined ? "" : `${topic} `}--help)`
    : "";
  console.error(`qite: ${oneLine(message)}${hint}`);
  if (environment().QITE_DEBUG === "1" && error instanceof Error) console.error(error.stack);
  return usage ? 2 : 1;
}
