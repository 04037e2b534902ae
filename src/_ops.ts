/**
 * The synchronous core of a queue: its SQL and the code that runs it. `Queue` wraps it in
 * promises; `QueueTransaction` exposes it as it is, inside a transaction.
 *
 * Every statement compares `queue` with `cast(? as text)`: Bun 1.4.5 runs a bound string compared
 * with an indexed text column about 7× slower, and the cast restores the speed everywhere else
 * at no cost.
 *
 * @module
 */

import { type Database, type DatabaseInternals, internals } from "./database.ts";
import type { Message, MessageId, Receipt, SendMessage } from "./message.ts";
import { formatTime, MAX_DURATION_MS, newId } from "./_time.ts";
import { checkInteger, show } from "./_validate.ts";
import type { Row } from "./runtime/types.ts";

/** Receive counts up to this many get one index seek each; above it, a range scan. */
const MAX_SEEK_PARTITIONS = 32;

const encoder = new TextEncoder();

/** A queue's settings, validated. */
export interface OpsSettings {
  readonly name: string;
  readonly timeout: number;
  readonly maxReceive: number;
  readonly clock: () => number;
}

/** The receive-count filter for live (not dead) messages, as SQL with a literal bound. */
function liveReceived(maxReceive: number): string {
  if (maxReceive <= MAX_SEEK_PARTITIONS) {
    return `received in (${Array.from({ length: maxReceive }, (_, i) => i).join(", ")})`;
  }
  return `received < ${maxReceive}`;
}

/** A queue's SQL statements. */
interface Sql {
  readonly send: string;
  readonly receive: string;
  readonly nextDue: string;
  readonly extend: string;
  readonly extendFenced: string;
  readonly delete: string;
  readonly deleteFenced: string;
}

/** Builds a queue's SQL once; `maxReceive` is a validated integer, written as a literal. */
function buildSql(maxReceive: number): Sql {
  const notFresh = "not (received = 0 and timeout <= created)";
  return {
    send: "insert into goqite (id, created, updated, queue, body, timeout, priority) " +
      "values (?, ?, ?, cast(? as text), ?, ?, ?)",
    // The next messages are the first fresh ones (never received, never delayed) from
    // qite_fresh_idx and every due retry or due delayed message from qite_other_idx, merged in
    // goqite's order. Dead messages are never read.
    receive: `update goqite set timeout = ?1, received = received + 1
where id in (
  select id from (
    select id, priority, created, r from (
      select id, priority, created, rowid as r from goqite
      where queue = cast(?2 as text) and received = 0 and timeout <= created and timeout <= ?3
      order by priority desc, created, rowid limit ?4)
    union all
    select id, priority, created, rowid as r from goqite
    where queue = cast(?2 as text) and ${liveReceived(maxReceive)} and timeout <= ?3
      and ${notFresh}
  ) order by priority desc, created, r limit ?4)
returning id, body, received, priority, created, rowid as r`,
    nextDue: maxReceive <= MAX_SEEK_PARTITIONS
      ? `select min(timeout) as t from goqite where queue = cast(? as text) and received = ?
  and timeout > ? and ${notFresh}`
      : `select min(timeout) as t from goqite where queue = cast(? as text) and received < ${maxReceive}
  and timeout > ? and ${notFresh}`,
    extend: "update goqite set timeout = ? where queue = cast(? as text) and id = ?",
    extendFenced:
      "update goqite set timeout = ? where queue = cast(? as text) and id = ? and received = ?",
    delete: "delete from goqite where queue = cast(? as text) and id = ?",
    deleteFenced: "delete from goqite where queue = cast(? as text) and id = ? and received = ?",
  };
}

/** Orders received rows as goqite would hand them out: priority, then age, then insertion. */
function byQueueOrder(a: Row, b: Row): number {
  return (b.priority as number) - (a.priority as number) ||
    ((a.created as string) < (b.created as string)
      ? -1
      : (a.created as string) > (b.created as string)
      ? 1
      : 0) ||
    (a.r as number) - (b.r as number);
}

function toMessage(row: Row): Message {
  return {
    id: row.id as string,
    body: row.body as Uint8Array,
    received: Number(row.received),
    priority: Number(row.priority),
  };
}

/** Converts a message body to bytes, or throws `TypeError`. */
export function toBody(action: string, body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return encoder.encode(body);
  throw new TypeError(
    `Cannot ${action} as 'body' must be a Uint8Array or a string: current value is ${show(body)}`,
  );
}

/** Checks a duration in milliseconds: an integer from 0 to 100 years. */
export function checkDuration(
  action: string,
  name: string,
  value: unknown,
): asserts value is number {
  checkInteger(action, name, value, 0, MAX_DURATION_MS);
}

/** Reads `extend`/`delete`'s target: a bare id, or a receipt to fence on. */
export function toTarget(action: string, target: unknown): { id: string; received?: number } {
  if (typeof target === "string" && target !== "") return { id: target };
  if (typeof target === "object" && target !== null) {
    const { id, received } = target as Partial<Receipt>;
    if (typeof id === "string" && id !== "" && Number.isSafeInteger(received)) {
      return { id, received: received! };
    }
  }
  throw new TypeError(
    `Cannot ${action} as the target must be a message id or a received message: current value is ${
      show(target)
    }`,
  );
}

/** The synchronous operations of one queue on one connection. */
export class QueueOps {
  readonly db: Database;
  readonly settings: OpsSettings;
  #internals: DatabaseInternals;
  #sql: Sql;

  constructor(db: Database, settings: OpsSettings) {
    this.db = db;
    this.settings = settings;
    this.#internals = internals(db);
    this.#sql = buildSql(settings.maxReceive);
  }

  /** Inserts a validated message and returns its id. */
  send(body: Uint8Array, delay: number, priority: number): MessageId {
    const now = this.settings.clock();
    const created = formatTime(now);
    const timeout = delay === 0 ? created : formatTime(now + delay);
    const id = newId();
    this.#internals.statement(this.#sql.send).run(
      id,
      created,
      created,
      this.settings.name,
      body,
      timeout,
      priority,
    );
    this.#internals.hub.notify(this.settings.name);
    return id;
  }

  /** Validates a message to send; returns its parts. */
  static parse(action: string, message: unknown): [Uint8Array, number, number] {
    if (typeof message !== "object" || message === null) {
      throw new TypeError(
        `Cannot ${action} as the message must be an object with a body: current value is ${
          show(message)
        }`,
      );
    }
    const { body, delay = 0, priority = 0 } = message as SendMessage;
    const bytes = toBody(action, body);
    checkDuration(action, "delay", delay);
    checkInteger(action, "priority", priority);
    return [bytes, delay, priority];
  }

  /** Receives up to `max` messages, in goqite's order, as of `now`. */
  receive(max: number, now: number = this.settings.clock()): Message[] {
    const rows = this.#internals.statement(this.#sql.receive).all(
      formatTime(now + this.settings.timeout),
      this.settings.name,
      formatTime(now),
      max,
    );
    if (rows.length > 1) rows.sort(byQueueOrder);
    return rows.map(toMessage);
  }

  /**
   * Milliseconds from `now` until the earliest in-flight or delayed message of this queue becomes
   * visible, or `Infinity` when there is none. Pass the `now` of the receive that found nothing,
   * so a message that became visible in between is not missed.
   */
  nextDue(now: number): number {
    const nowText = formatTime(now);
    const statement = this.#internals.statement(this.#sql.nextDue);
    let earliest: string | undefined;
    const consider = (row: Row | undefined): void => {
      const due = row?.t;
      if (typeof due === "string" && (earliest === undefined || due < earliest)) earliest = due;
    };
    if (this.settings.maxReceive > MAX_SEEK_PARTITIONS) {
      consider(statement.get(this.settings.name, nowText));
    } else {
      for (let received = 0; received < this.settings.maxReceive; received++) {
        consider(statement.get(this.settings.name, received, nowText));
      }
    }
    return earliest === undefined ? Infinity : Date.parse(earliest) - now;
  }

  /** Sets a message's visibility timeout to now + `delay`; true if it applied. */
  extend(target: { id: string; received?: number }, delay: number): boolean {
    const timeout = formatTime(this.settings.clock() + delay);
    return target.received === undefined
      ? this.#internals.statement(this.#sql.extend).run(timeout, this.settings.name, target.id) > 0
      : this.#internals.statement(this.#sql.extendFenced).run(
        timeout,
        this.settings.name,
        target.id,
        target.received,
      ) > 0;
  }

  /** Deletes a message; true if it applied. */
  delete(target: { id: string; received?: number }): boolean {
    return target.received === undefined
      ? this.#internals.statement(this.#sql.delete).run(this.settings.name, target.id) > 0
      : this.#internals.statement(this.#sql.deleteFenced).run(
        this.settings.name,
        target.id,
        target.received,
      ) > 0;
  }
}
