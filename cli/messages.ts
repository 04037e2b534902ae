/**
 * Messages and stats as the command line prints them: rows of a table, or JSON objects.
 *
 * @module
 */

import type { Message, MessageInfo, Priority, QueueStats } from "../src/message.ts";
import { type StatsView, statsView } from "../http/_dashboard_view.ts";
import { showBody } from "./body.ts";
import { type Column, cut, duration, table } from "./table.ts";

/** A message as `--json` prints it. */
export interface MessageJson {
  readonly id: string;
  /** The job's name, or `null` when the message is not a job. */
  readonly job: string | null;
  /** A number, or decimal text when it is beyond ±2^53. */
  readonly priority: number | string;
  readonly received: number;
  /** When it was sent (RFC 3339); absent for a received message. */
  readonly created?: string;
  /** When it becomes (or became) visible (RFC 3339); absent for a received message. */
  readonly timeout?: string;
  /** The size of the whole body in bytes (a job's name included). */
  readonly size: number;
  /** `text` or `hex`: how `body` shows the bytes. */
  readonly format: "text" | "hex";
  /** The body (a job's own body), whole. */
  readonly body: string;
}

/** Body previews in tables are cut to this many characters (`--json` has them whole). */
const PREVIEW = 60;

function priorityJson(priority: Priority): number | string {
  return typeof priority === "bigint" ? String(priority) : priority;
}

/** A message as JSON. */
export function messageJson(message: Message | MessageInfo): MessageJson {
  const shown = showBody(message.body);
  return {
    id: message.id,
    job: shown.job ?? null,
    priority: priorityJson(message.priority),
    received: message.received,
    ...("created" in message
      ? { created: message.created.toISOString(), timeout: message.timeout.toISOString() }
      : {}),
    size: message.body.length,
    format: shown.format,
    body: shown.body,
  };
}

/** When the message becomes visible, from `now`: `now`, or `in 4s`. */
function visible(timeout: Date, now: number): string {
  const wait = timeout.getTime() - now;
  return wait <= 0 ? "now" : `in ${duration(wait)}`;
}

/** Options for {@linkcode messageTable}. */
export interface MessageTableOptions {
  /** Shows when each becomes visible (not for dead messages, which never do). */
  readonly visible?: boolean;
  /** Shows bodies whole rather than cut to a preview. */
  readonly whole?: boolean;
}

/** Messages as an aligned table. */
export function messageTable(
  messages: readonly (Message | MessageInfo)[],
  options: MessageTableOptions = {},
): string {
  const now = Date.now();
  const infos = messages.every((m) => "created" in m);
  const columns: Column[] = [
    { title: "ID" },
    { title: "JOB" },
    { title: "PRIORITY", numeric: true },
    { title: "RECEIVED", numeric: true },
    ...(infos ? [{ title: "AGE", numeric: true }] : []),
    ...(infos && options.visible ? [{ title: "VISIBLE" }] : []),
    { title: "SIZE", numeric: true },
    { title: "FORMAT" },
    { title: "BODY" },
  ];
  const rows = messages.map((message) => {
    const shown = showBody(message.body);
    const info = message as MessageInfo;
    return [
      message.id,
      shown.job ?? "",
      String(message.priority),
      String(message.received),
      ...(infos ? [duration(Math.max(0, now - info.created.getTime()))] : []),
      ...(infos && options.visible ? [visible(info.timeout, now)] : []),
      String(message.body.length),
      shown.format,
      options.whole ? shown.body : cut(shown.body, PREVIEW),
    ];
  });
  return table(columns, rows);
}

/** A queue's stats as JSON, with its name: the dashboard's counts (`null` age when none visible). */
export interface StatsJson extends StatsView {
  readonly queue: string;
}

/** A queue's stats as JSON. */
export function statsJson(queue: string, stats: QueueStats): StatsJson {
  return { queue, ...statsView(stats) };
}

/** Queues' stats as an aligned table. */
export function statsTable(rows: readonly StatsJson[]): string {
  const columns: Column[] = [
    { title: "QUEUE" },
    ...["TOTAL", "VISIBLE", "IN FLIGHT", "DELAYED", "DEAD", "OLDEST VISIBLE"].map((title) => ({
      title,
      numeric: true,
    })),
  ];
  return table(
    columns,
    rows.map((s) => [
      s.queue,
      ...[s.total, s.visible, s.inFlight, s.delayed, s.dead].map(String),
      s.oldestVisibleAge === null ? "-" : duration(s.oldestVisibleAge),
    ]),
  );
}
