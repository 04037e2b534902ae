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
import type { DeadPage, Message, MessageId, MessageInfo, QueueStats, Receipt } from "../message.ts";
import { formatTime, newId } from "../_time.ts";
import type { Outgoing, Target } from "../_input.ts";
import type { Bindable, Row } from "../runtime/types.ts";

/**
 * Limits up to this many are written into the SQL as literals, one statement per limit: a bound
 * `limit ?` makes SQLite run these statements about three times slower. Larger limits are bound.
 */
const MAX_LITERAL_LIMIT = 128;

/** Receive counts up to this many get one index seek each; above it, a range scan. */
const MAX_SEEK_PARTITIONS = 32;

/** A queue's settings, validated. */
export interface OpsSettings {
  readonly name: string;
  readonly timeout: number;
  readonly maxReceive: number;
  readonly maxBodySize: number;
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
export interface QueueSql {
  /** The insert of one message (the insert of `rows` messages: {@linkcode insertSql}). */
  readonly send: string;
  /** The receive of up to `limit` messages; a number is written as a literal. */
  receive(limit: number | "?4"): string;
  /** The peek at up to `limit` messages; a number is written as a literal. */
  peek(limit: number | "?3"): string;
  readonly nextDue: string;
  readonly extend: string;
  readonly extendFenced: string;
  readonly delete: string;
  readonly deleteFenced: string;
  readonly listDead: string;
  readonly countDead: string;
  readonly redriveAll: string;
  readonly redriveOne: string;
  readonly purgeDead: string;
  readonly purge: string;
  readonly stats: string;
  readonly release: string;
  readonly kill: string;
}

const NOT_FRESH = "not (received = 0 and timeout <= created)";

/**
 * The messages that could be received next, as `id, priority, created, r` (r is the rowid): the
 * first fresh ones (never received, never delayed) from qite_fresh_idx, and every due retry or
 * due delayed message from qite_other_idx. Dead messages are never read.
 */
function candidates(maxReceive: number, queue: string, now: string, limit: string): string {
  return `select id, priority, created, r from (
      select id, priority, created, rowid as r from goqite
      where queue = cast(${queue} as text) and received = 0 and timeout <= created
        and timeout <= ${now}
      order by priority desc, created, rowid limit ${limit})
    union all
    select id, priority, created, rowid as r from goqite
    where queue = cast(${queue} as text) and ${liveReceived(maxReceive)} and timeout <= ${now}
      and ${NOT_FRESH}`;
}

/**
 * The row counts of the multi-row inserts a batch is cut into, largest first: one statement
 * for many rows saves a call into the driver per message, and a few fixed sizes keep the
 * statement cache small and the SQL text short however large the batch.
 */
const INSERT_CHUNKS = [64, 16, 4, 1] as const;

/** The insert of `rows` messages in one statement, 7 parameters a row. */
export function insertSql(rows: number): string {
  return "insert into goqite (id, created, updated, queue, body, timeout, priority) values " +
    Array(rows).fill("(?, ?, ?, cast(? as text), ?, ?, ?)").join(", ");
}

/**
 * Builds a queue's SQL once. `maxReceive` is a validated integer and is written as a literal,
 * so that SQLite can match the partial indexes and seek per receive count.
 */
export function buildSql(maxReceive: number): QueueSql {
  const dead =
    `queue = cast(?1 as text) and received >= ${maxReceive} and timeout <= ?2 and ${NOT_FRESH}`;
  return {
    send: insertSql(1),
    receive: (limit) =>
      `update goqite set timeout = ?1, received = received + 1
where rowid in (
  select r from (${candidates(maxReceive, "?2", "?3", String(limit))})
  order by priority desc, created, r limit ${limit})
returning id, body, received, priority, created, rowid as r`,
    peek: (limit) =>
      `select g.id, g.body, g.received, g.priority, g.created, g.timeout
from (select r from (${candidates(maxReceive, "?1", "?2", String(limit))})
  order by priority desc, created, r limit ${limit}) c
join goqite g on g.rowid = c.r
order by g.priority desc, g.created, g.rowid`,
    nextDue: maxReceive <= MAX_SEEK_PARTITIONS
      ? `select min(timeout) as t from goqite where queue = cast(? as text) and received = ?
  and timeout > ? and ${NOT_FRESH}`
      : `select min(timeout) as t from goqite where queue = cast(? as text)
  and received < ${maxReceive} and timeout > ? and ${NOT_FRESH}`,
    extend: "update goqite set timeout = ? where queue = cast(? as text) and id = ?",
    extendFenced:
      "update goqite set timeout = ? where queue = cast(? as text) and id = ? and received = ?",
    delete: "delete from goqite where queue = cast(? as text) and id = ?",
    deleteFenced: "delete from goqite where queue = cast(? as text) and id = ? and received = ?",
    listDead: `select id, body, received, priority, created, timeout from goqite
where ${dead} and (created > ?3 or (created = ?3 and id > ?4))
order by created, id limit ?5`,
    countDead: `select count(*) as n from goqite where ${dead}`,
    // A redriven message gets received = 0 and timeout = created: visible at once, in its old
    // place in the order, and on the fresh index again.
    redriveAll: `update goqite set received = 0, timeout = created where ${dead}`,
    redriveOne: `update goqite set received = 0, timeout = created where ${dead} and id = ?3`,
    purgeDead: `delete from goqite where ${dead}`,
    purge: "delete from goqite where queue = cast(? as text)",
    // Hands a received message back without counting the receive (fenced).
    release: `update goqite set received = received - 1, timeout = ?
where queue = cast(? as text) and id = ? and received = ? and received > 0`,
    // Makes a received message dead at once (fenced).
    kill: `update goqite set received = max(received, ${maxReceive}), timeout = ?
where queue = cast(? as text) and id = ? and received = ?`,
    stats: `select
  count(*) as total,
  coalesce(sum(received < ${maxReceive} and timeout <= ?2), 0) as visible,
  coalesce(sum(received > 0 and timeout > ?2), 0) as in_flight,
  coalesce(sum(received = 0 and timeout > ?2), 0) as delayed,
  coalesce(sum(received >= ${maxReceive} and timeout <= ?2), 0) as dead,
  min(case when received < ${maxReceive} and timeout <= ?2 then created end) as oldest
from goqite where queue = cast(?1 as text)`,
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

function toInfo(row: Row): MessageInfo {
  return {
    ...toMessage(row),
    created: new Date(row.created as string),
    timeout: new Date(row.timeout as string),
  };
}

/** The opaque paging cursor of `listDead`: the last message's created time and id. */
function cursorOf(row: Row): string {
  return `${row.created as string} ${row.id as string}`;
}

/** The synchronous operations of one queue on one connection. Arguments are validated. */
export class QueueOps {
  readonly db: Database;
  readonly settings: OpsSettings;
  readonly sql: QueueSql;
  #internals: DatabaseInternals;

  constructor(db: Database, settings: OpsSettings) {
    this.db = db;
    this.settings = settings;
    this.#internals = internals(db);
    this.sql = buildSql(settings.maxReceive);
  }

  /** Inserts messages, in one transaction when there are several; returns their ids in order. */
  send(messages: readonly Outgoing[]): MessageId[] {
    if (messages.length === 0) return [];
    const insert = (): MessageId[] => {
      const now = this.settings.clock();
      const created = formatTime(now);
      const name = this.settings.name;
      const ids = messages.map(() => newId());
      let next = 0;
      for (const rows of INSERT_CHUNKS) {
        if (messages.length - next < rows) continue;
        const statement = this.#internals.statement(this.#insertText(rows));
        for (; messages.length - next >= rows; next += rows) {
          const params: Bindable[] = [];
          for (let i = next; i < next + rows; i++) {
            const [body, delay, priority] = messages[i]!;
            const timeout = delay === 0 ? created : formatTime(now + delay);
            params.push(ids[i]!, created, created, name, body, timeout, priority);
          }
          statement.run(...params);
        }
      }
      return ids;
    };
    const ids = messages.length === 1 ? insert() : this.db.transaction(insert);
    this.#internals.hub.notify(this.settings.name);
    return ids;
  }

  #insertTexts = new Map<number, string>();

  /** The insert SQL for `rows` messages, built once per size. */
  #insertText(rows: number): string {
    let sql = this.#insertTexts.get(rows);
    if (sql === undefined) this.#insertTexts.set(rows, sql = insertSql(rows));
    return sql;
  }

  #receiveText = new Map<number | "?4", string>();

  /** The receive SQL for a limit, built once per limit so the statement cache sees one string. */
  #receiveSql(limit: number | "?4"): string {
    let sql = this.#receiveText.get(limit);
    if (sql === undefined) this.#receiveText.set(limit, sql = this.sql.receive(limit));
    return sql;
  }

  /** Receives up to `max` messages, in goqite's order, as of `now`. */
  receive(max: number, now: number = this.settings.clock()): Message[] {
    const literal = max <= MAX_LITERAL_LIMIT;
    const statement = this.#internals.statement(this.#receiveSql(literal ? max : "?4"));
    const timeout = formatTime(now + this.settings.timeout);
    const nowText = formatTime(now);
    const rows = literal
      ? statement.all(timeout, this.settings.name, nowText)
      : statement.all(timeout, this.settings.name, nowText, max);
    if (rows.length > 1) rows.sort(byQueueOrder);
    return rows.map(toMessage);
  }

  /** Up to `limit` visible messages in receive order, without receiving them. */
  peek(limit: number): MessageInfo[] {
    const now = formatTime(this.settings.clock());
    const literal = limit <= MAX_LITERAL_LIMIT;
    const statement = this.#internals.statement(this.sql.peek(literal ? limit : "?3"));
    const rows = literal
      ? statement.all(this.settings.name, now)
      : statement.all(this.settings.name, now, limit);
    return rows.map(toInfo);
  }

  /**
   * Milliseconds from `now` until the earliest in-flight or delayed message of this queue becomes
   * visible, or `Infinity` when there is none. Pass the `now` of the receive that found nothing,
   * so a message that became visible in between is not missed.
   */
  nextDue(now: number): number {
    const nowText = formatTime(now);
    const statement = this.#internals.statement(this.sql.nextDue);
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

  /** Runs `each` for every target, in one transaction when there are several. */
  #many(targets: readonly Target[], each: (target: Target) => boolean): boolean[] {
    if (targets.length === 0) return [];
    if (targets.length === 1) return [each(targets[0]!)];
    return this.db.transaction(() => targets.map(each));
  }

  /** Sets visibility timeouts to now + `delay`; for each target, whether it applied. */
  extend(targets: readonly Target[], delay: number): boolean[] {
    const timeout = formatTime(this.settings.clock() + delay);
    const name = this.settings.name;
    const plain = this.#internals.statement(this.sql.extend);
    const fenced = this.#internals.statement(this.sql.extendFenced);
    return this.#many(
      targets,
      (target) =>
        (target.received === undefined
          ? plain.run(timeout, name, target.id)
          : fenced.run(timeout, name, target.id, target.received)) > 0,
    );
  }

  /** Deletes messages; for each target, whether it applied. */
  delete(targets: readonly Target[]): boolean[] {
    const name = this.settings.name;
    const plain = this.#internals.statement(this.sql.delete);
    const fenced = this.#internals.statement(this.sql.deleteFenced);
    return this.#many(
      targets,
      (target) =>
        (target.received === undefined
          ? plain.run(name, target.id)
          : fenced.run(name, target.id, target.received)) > 0,
    );
  }

  /**
   * Hands received messages back without counting the receive: visible again after `delay`,
   * with the receive count it had before. Fenced: only while each delivery holds its message.
   */
  release(receipts: readonly Receipt[], delay: number): boolean[] {
    const timeout = formatTime(this.settings.clock() + delay);
    const name = this.settings.name;
    const statement = this.#internals.statement(this.sql.release);
    return this.#many(
      receipts,
      (receipt) => statement.run(timeout, name, receipt.id, receipt.received!) > 0,
    );
  }

  /** Makes received messages dead at once. Fenced: only while each delivery holds its message. */
  kill(receipts: readonly Receipt[]): boolean[] {
    const now = formatTime(this.settings.clock());
    const name = this.settings.name;
    const statement = this.#internals.statement(this.sql.kill);
    return this.#many(
      receipts,
      (receipt) => statement.run(now, name, receipt.id, receipt.received!) > 0,
    );
  }

  /** A page of dead messages, oldest first, and the cursor of the next page. */
  listDead(limit: number, cursor: string | undefined): DeadPage {
    const [created = "", id = ""] = cursor === undefined ? [] : cursor.split(" ");
    const rows = this.#internals.statement(this.sql.listDead).all(
      this.settings.name,
      formatTime(this.settings.clock()),
      created,
      id,
      limit,
    );
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    return { messages: rows.map(toInfo), cursor: last === undefined ? undefined : cursorOf(last) };
  }

  /** How many messages are dead. */
  countDead(): number {
    const now = formatTime(this.settings.clock());
    return Number(this.#internals.statement(this.sql.countDead).get(this.settings.name, now)?.n);
  }

  /** Makes dead messages receivable again (all, or the given ids); returns how many. */
  redrive(ids: readonly MessageId[] | undefined): number {
    const now = formatTime(this.settings.clock());
    const name = this.settings.name;
    const one = this.#internals.statement(this.sql.redriveOne);
    const count = ids === undefined
      ? this.#internals.statement(this.sql.redriveAll).run(name, now)
      : ids.length === 1
      ? one.run(name, now, ids[0]!)
      : this.db.transaction(() => ids.reduce((sum, id) => sum + one.run(name, now, id), 0));
    if (count > 0) this.#internals.hub.notify(name);
    return count;
  }

  /** Deletes the dead messages; returns how many. */
  purgeDead(): number {
    const now = formatTime(this.settings.clock());
    return this.#internals.statement(this.sql.purgeDead).run(this.settings.name, now);
  }

  /** Deletes every message of the queue; returns how many. */
  purge(): number {
    return this.#internals.statement(this.sql.purge).run(this.settings.name);
  }

  /** Exact counts by state, and the age of the oldest visible message. */
  stats(): QueueStats {
    const now = this.settings.clock();
    const row = this.#internals.statement(this.sql.stats).get(this.settings.name, formatTime(now))!;
    return {
      total: Number(row.total),
      visible: Number(row.visible),
      inFlight: Number(row.in_flight),
      delayed: Number(row.delayed),
      dead: Number(row.dead),
      oldestVisibleAge: typeof row.oldest === "string"
        ? Math.max(0, now - Date.parse(row.oldest))
        : undefined,
    };
  }
}
