/**
 * The commands that look without changing anything: `stats`, `peek` and `dead`.
 *
 * @module
 */

import type { PeekState } from "../src/queue_like.ts";
import { UsageError, wholeNumber } from "./args.ts";
import {
  type Command,
  positionals,
  print,
  printJson,
  TARGET_FLAGS,
  TARGET_HELP,
  withTarget,
} from "./command.ts";
import { messageJson, messageTable, statsJson, statsTable } from "./messages.ts";

/** `qite stats [queue]`. */
export const stats: Command = {
  name: "stats",
  args: "[queue]",
  summary: "counts by state, of one queue or of every queue that holds messages",
  about: "Counts a queue's messages by state: total, visible, in flight, delayed and dead,\n" +
    "and the age of the oldest visible one. Without a queue, every queue that holds messages.\n" +
    "Dead means received --max-receive times with the timeout passed: for a database, give the\n" +
    "--max-receive your workers use.",
  flags: TARGET_FLAGS,
  flagHelp: TARGET_HELP,
  run: (context) =>
    withTarget("stats", context, async (target) => {
      const [name] = positionals("stats", context, 0, 1);
      const names = name === undefined ? await target.list() : [name];
      const rows = [];
      for (const queue of names) rows.push(statsJson(queue, await target.queue(queue).stats()));
      if (context.values.json) printJson(name === undefined ? rows : rows[0]);
      else if (rows.length === 0) print(`no queue holds messages in ${target.description}`);
      else print(statsTable(rows));
      return 0;
    }),
};

const STATES: readonly PeekState[] = ["visible", "delayed", "inFlight"];

/** `qite peek <queue>`. */
export const peek: Command = {
  name: "peek",
  args: "<queue>",
  summary: "messages of a queue without receiving them",
  about: "Shows a queue's messages without receiving them: the visible ones in the order they\n" +
    "would be received, or the delayed or in-flight ones, soonest visible first. Bodies are\n" +
    "text when they are UTF-8 without control characters, otherwise hex (FORMAT says which),\n" +
    "cut to 60 characters in the table and whole with --json; a job shows its name (JOB) and\n" +
    "its own body.",
  flags: { ...TARGET_FLAGS, state: { type: "string" }, limit: { type: "string" } },
  flagHelp: [
    ["--state STATE", "visible, delayed or inFlight (visible)"],
    ["--limit N", "the most messages to show, 1 to 1000 (10)"],
    ...TARGET_HELP,
  ],
  run: (context) => {
    const [name] = positionals("peek", context, 1, 1);
    const state = (context.values.state ?? "visible") as PeekState;
    if (!STATES.includes(state)) {
      throw new UsageError(
        `--state must be visible, delayed or inFlight: current value is ${JSON.stringify(state)}`,
        "peek",
      );
    }
    const limit = limitOf("peek", context.values.limit, 10);
    return withTarget("peek", context, async (target) => {
      const messages = await target.queue(name!).peek({ state, limit });
      if (context.values.json) printJson(messages.map(messageJson));
      else if (messages.length === 0) print(`no ${words(state)} messages in ${name}`);
      else print(messageTable(messages, { visible: true }));
      return 0;
    });
  },
};

/** `qite dead <queue>`. */
export const dead: Command = {
  name: "dead",
  args: "<queue>",
  summary: "dead messages of a queue, a page at a time",
  about: "Lists a queue's dead messages, oldest first, a page at a time: when there are more,\n" +
    "the last line gives the --cursor of the next page (with --json: the cursor key, null on\n" +
    "the last page). Bodies are shown as by peek.",
  flags: { ...TARGET_FLAGS, limit: { type: "string" }, cursor: { type: "string" } },
  flagHelp: [
    ["--limit N", "the most messages per page, 1 to 1000 (20)"],
    ["--cursor CURSOR", "where the previous page ended"],
    ...TARGET_HELP,
  ],
  run: (context) => {
    const [name] = positionals("dead", context, 1, 1);
    const limit = limitOf("dead", context.values.limit, 20);
    const cursor = context.values.cursor as string | undefined;
    return withTarget("dead", context, async (target) => {
      const page = await target.queue(name!).listDead({ limit, cursor });
      if (context.values.json) {
        printJson({ messages: page.messages.map(messageJson), cursor: page.cursor ?? null });
        return 0;
      }
      if (page.messages.length === 0) print(`no dead messages in ${name}`);
      else print(messageTable(page.messages));
      if (page.cursor !== undefined) print(`next page: --cursor ${shellQuoted(page.cursor)}`);
      return 0;
    });
  },
};

function limitOf(command: string, value: unknown, fallback: number): number {
  return typeof value === "string" ? wholeNumber(command, "limit", value, 1, 1000) : fallback;
}

/** `text` as one shell word. */
function shellQuoted(text: string): string {
  return /^[\w.:/=+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

function words(state: PeekState): string {
  return state === "inFlight" ? "in-flight" : state;
}
