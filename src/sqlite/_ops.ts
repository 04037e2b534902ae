/**
 * The synchronous core of a SQLite queue: its SQL and the code that runs it. `Queue` runs each
 * operation through the connection's lock handling (see `Database`'s internals `write`);
 * `QueueTransaction` runs them as they are, inside the caller's transaction.
 *
 * Every statement compares `queue` with `cast(? as text)`: Bun 1.4.5 runs a bound string compared
 * with an indexed text column about 7× slower, and the cast restores the speed everywhere else
 * at no cost.
 *
 * Receipts: a delivery is identified by the message's receive count and its `created` time at
 * the receive. Receiving raises the count; releasing and redriving lower it, but also move
 * `created` strictly forward (to now, or 1 ms past its old value), and burying raises the count.
 * So the pair only ever grows for a message, never repeats, and a receipt matches exactly while
 * its delivery holds the message, in goqite's table as it is.
 *
 * @module
 */

import { type Database, type DatabaseInternals, internals } from "./database.ts";
import type {
  DeadPage,
  Message,
  MessageId,
  MessageInfo,
  Priority,
  QueueStats,
  Receipt,
} from "../message.ts";
import { formatTime, newId } from "../_time.ts";
import type { Outgoing, Target } from "../_input.ts";
import type { Bindable, Row } from "../runtime/types.ts";
import type { WaitRoom } from "../_waiting.ts";
import type { PeekState } from "../queue_like.ts";
import { roomOf } from "./_wake.ts";
import { bodyReadLength, bodyStart } from "../_bytes.ts";
import { PROMOTE_BATCH, PromotionPace } from "../_promotion.ts";

/**
 * Limits up to this many are written into the SQL as literals, one statement per limit: a bound
 * `limit ?` makes SQLite run these statements about three times slower. Larger limits are bound.
 */
const MAX_LITERAL_LIMIT = 128;

/** Receive counts up to this many get one index seek each; above it, one range scan. */
export const MAX_SEEK_PARTITIONS = 32;

/**
 * How many due retries (and due delayed messages) not yet promoted, of each receive count, a
 * receive considers beyond its limit: those due earliest. Promoted ones are considered in exact
 * order.
 */
export const RETRY_WINDOW = 15;

/** The longest {@linkcode QueueOps.untilDead} waits, in milliseconds. */
const MAX_BURY_WAIT_MS = 10;

/** A queue's settings, validated. */
export interface OpsSettings {
  readonly name: string;
  readonly timeout: number;
  readonly maxReceive: number;
  readonly maxBodySize: number;
  readonly clock: () => number;
}

/** A queue's SQL statements. */
export interface QueueSql {
  /** The insert of one message (the insert of `rows` messages: {@linkcode insertSql}). */
  readonly send: string;
  /** The receive of up to `limit` messages; a number is written as a literal. */
  receive(limit: number | "?4"): string;
  /**
   * The receive of up to `limit` messages from qite_ready_idx alone, in goqite's order: the fast
   * path, when messages are ready.
   */
  receiveReady(limit: number | "?4"): string;
  /**
   * The peek at up to `limit` messages; a number is written as a literal. `body` is the body's
   * column list (see {@linkcode bodyColumns}), here and below.
   */
  peek(limit: number | "?3", body: string): string;
  /** Up to ?3 delayed (`received = 0`) or in-flight messages, soonest visible first. */
  peekDelayed(body: string): string;
  peekInFlight(body: string): string;
  /**
   * Moves up to {@linkcode PROMOTE_BATCH} due messages (those due earliest) from
   * qite_waiting_idx into qite_ready_idx, by setting `timeout` back to `created`: ?1 queue,
   * ?2 now.
   */
  readonly promote: string;
  readonly nextDue: string;
  readonly extend: string;
  readonly extendFenced: string;
  readonly delete: string;
  readonly deleteFenced: string;
  listDead(body: string): string;
  readonly countDead: string;
  readonly redriveAll: string;
  readonly redriveOne: string;
  readonly purgeDead: string;
  readonly purge: string;
  readonly stats: string;
  readonly release: string;
  readonly bury: string;
}

/** The predicate of qite_waiting_idx: the visibility time is after `created`. */
const WAITING = "timeout > created";

/**
 * An integer column read so that no driver throws or rounds: as a number when it is a safe
 * integer, as decimal text otherwise (Go writes 64-bit integers).
 */
function safeInteger(column: string, as: string = column): string {
  return `case when ${column} between -9007199254740991 and 9007199254740991 then ${column} ` +
    `else cast(${column} as text) end as ${as}`;
}

/** A row's `created` time plus 1 ms, in goqite's text form. */
const JUST_AFTER_CREATED = "strftime('%Y-%m-%dT%H:%M:%fZ', created, '+0.001 seconds')";

/** `created` moved strictly forward: to `now`, or 1 ms past its old value. */
function bumpedCreated(now: string): string {
  return `case when ${now} > created then ${now} else ${JUST_AFTER_CREATED} end`;
}

/**
 * The earliest end of an extended lease: for a message on its last receive, just after its
 * `created` time; for any other, no floor ('' sorts before every time).
 */
function lastLeaseFloor(maxReceive: number): string {
  return `case when received >= ${maxReceive} then ${JUST_AFTER_CREATED} else '' end`;
}

/**
 * For each receive count below `maxReceive`, the `window` messages waiting in qite_waiting_idx
 * that became due earliest, as `columns`: one seek per receive count (one range for the counts
 * from {@linkcode MAX_SEEK_PARTITIONS} on).
 */
function dueBranches(
  maxReceive: number,
  queue: string,
  now: string,
  window: string,
  columns: string,
): string[] {
  const due = (filter: string): string =>
    `select * from (select ${columns} from goqite
      where queue = cast(${queue} as text) and ${filter} and timeout <= ${now} and ${WAITING}
      order by timeout limit ${window})`;
  const branches: string[] = [];
  const seeks = Math.min(maxReceive, MAX_SEEK_PARTITIONS);
  for (let received = 0; received < seeks; received++) {
    branches.push(due(`received = ${received}`));
  }
  if (maxReceive > MAX_SEEK_PARTITIONS) {
    branches.push(due(`received >= ${MAX_SEEK_PARTITIONS} and received < ${maxReceive}`));
  }
  return branches;
}

/**
 * The messages that could be received next, as `id, priority, created, r` (r is the rowid): the
 * first `limit` visible ones in goqite's order from qite_ready_idx, and, for each receive count
 * below `maxReceive`, the `limit + RETRY_WINDOW` due messages not yet promoted that became due
 * earliest, from qite_waiting_idx. Dead messages are never read, and no branch reads more than
 * its limit.
 */
function candidates(maxReceive: number, queue: string, now: string, limit: string): string {
  const window = /^\d+$/.test(limit) ? String(Number(limit) + RETRY_WINDOW) : `${limit} + 15`;
  const branches = [
    `select * from (select id, priority, created, rowid as r from goqite
      where queue = cast(${queue} as text) and timeout <= created and timeout <= ${now}
        and received < ${maxReceive}
      order by priority desc, created, rowid limit ${limit})`,
    ...dueBranches(maxReceive, queue, now, window, "id, priority, created, rowid as r"),
  ];
  return branches.join("\n    union all\n    ");
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

const MESSAGE_COLUMNS = `id, body, ${safeInteger("received")}, ${safeInteger("priority")}, created`;

/**
 * Builds a queue's SQL once. `maxReceive` is a validated integer and is written as a literal,
 * so that SQLite can match the partial indexes and seek per receive count.
 */
export function buildSql(maxReceive: number): QueueSql {
  const dead =
    `queue = cast(?1 as text) and received >= ${maxReceive} and timeout <= ?2 and ${WAITING}`;
  const fence = "received = ? and created = ?";
  return {
    send: insertSql(1),
    receive: (limit) =>
      `update goqite set timeout = ?1, received = received + 1
where rowid in (
  select r from (${candidates(maxReceive, "?2", "?3", String(limit))})
  order by priority desc, created, r limit ${limit})
returning ${MESSAGE_COLUMNS}, ${safeInteger("rowid", "r")}`,
    receiveReady: (limit) =>
      `update goqite set timeout = ?1, received = received + 1
where rowid in (
  select rowid from goqite
  where queue = cast(?2 as text) and timeout <= created and timeout <= ?3
    and received < ${maxReceive}
  order by priority desc, created, rowid limit ${limit})
returning ${MESSAGE_COLUMNS}, ${safeInteger("rowid", "r")}`,
    peek: (limit, body) =>
      `select g.id, ${body}, ${safeInteger("g.received", "received")}, ${
        safeInteger("g.priority", "priority")
      }, g.created, g.timeout
from (select r from (${candidates(maxReceive, "?1", "?2", String(limit))})
  order by priority desc, created, r limit ${limit}) c
join goqite g on g.rowid = c.r
order by g.priority desc, g.created, g.rowid`,
    peekDelayed: (body) =>
      `select id, ${body}, ${safeInteger("received")}, ${
        safeInteger("priority")
      }, created, timeout from goqite
where queue = cast(?1 as text) and received = 0 and timeout > ?2 and ${WAITING}
order by timeout, rowid limit ?3`,
    peekInFlight: (body) =>
      `select id, ${body}, ${safeInteger("received")}, ${
        safeInteger("priority")
      }, created, timeout from goqite
where queue = cast(?1 as text) and received > 0 and timeout > ?2 and ${WAITING}
order by timeout, rowid limit ?3`,
    promote: `update goqite set timeout = created where rowid in (
  select r from (${
      dueBranches(maxReceive, "?1", "?2", String(PROMOTE_BATCH), "rowid as r, timeout").join(
        "\n    union all\n    ",
      )
    })
  order by timeout limit ${PROMOTE_BATCH})`,
    nextDue: maxReceive <= MAX_SEEK_PARTITIONS
      ? `select min(timeout) as t from goqite where queue = cast(? as text) and received = ?
  and timeout > ? and ${WAITING}`
      : `select min(timeout) as t from goqite where queue = cast(? as text)
  and received < ${maxReceive} and timeout > ? and ${WAITING}`,
    // The lease of a message on its last receive never ends at or before its created time
    // (the clock went back, or an extend by 0 in the millisecond it was sent): it would be
    // neither visible nor dead, as dead ones are read from qite_waiting_idx, which holds only
    // timeout > created. (Any other message with such a timeout is simply ready.)
    extend: `update goqite set timeout = max(?, ${lastLeaseFloor(maxReceive)})
where queue = cast(? as text) and id = ?`,
    extendFenced: `update goqite set timeout = max(?, ${lastLeaseFloor(maxReceive)})
where queue = cast(? as text) and id = ? and ${fence}`,
    delete: "delete from goqite where queue = cast(? as text) and id = ?",
    deleteFenced: `delete from goqite where queue = cast(? as text) and id = ? and ${fence}`,
    listDead: (body) =>
      `select id, ${body}, ${safeInteger("received")}, ${
        safeInteger("priority")
      }, created, timeout from goqite
where ${dead} and (created > ?3 or (created = ?3 and id > ?4))
order by created, id limit ?5`,
    countDead: `select count(*) as n from goqite where ${dead}`,
    // A redriven message gets received = 0, created = now (or just past its old created) and
    // timeout = now: visible at once, behind the messages already waiting, on the fresh index
    // again (timeout <= created).
    redriveAll: `update goqite set received = 0, created = ${
      bumpedCreated("?2")
    }, timeout = ?2 where ${dead}`,
    redriveOne: `update goqite set received = 0, created = ${
      bumpedCreated("?2")
    }, timeout = ?2 where ${dead} and id = ?3`,
    purgeDead: `delete from goqite where ${dead}`,
    purge: "delete from goqite where queue = cast(? as text)",
    // Hands a received message back without counting the receive (fenced): visible at ?2, behind
    // the messages already waiting. With no delay, timeout <= created: fresh again if it was
    // never received otherwise.
    release: `update goqite set received = received - 1, created = ${bumpedCreated("?1")},
  timeout = ?2
where queue = cast(?3 as text) and id = ?4 and received = ?5 and created = ?6 and received > 0`,
    // Makes a received message dead at once (fenced): visible (and so dead) now, or 1 ms past
    // its created time if that is now, so that it stays out of qite_ready_idx.
    bury: `update goqite set received = max(received + 1, ${maxReceive}), timeout = ${
      bumpedCreated("?1")
    }
where queue = cast(?2 as text) and id = ?3 and received = ?4 and created = ?5`,
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

/** A column read with {@linkcode safeInteger}, as a priority: a number, or a bigint beyond. */
function toPriority(value: unknown): Priority {
  if (typeof value === "number") return value;
  // A bigint only where a number cannot hold the value (a handle the caller opened may read
  // every integer as a bigint: node:sqlite's readBigInts, bun:sqlite's safeIntegers).
  const big = BigInt(value as string | bigint);
  return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Orders received rows as goqite would hand them out: priority, then age, then insertion. */
function byQueueOrder(a: Row, b: Row): number {
  const pa = a.priority as Priority;
  const pb = b.priority as Priority;
  if (pa !== pb) return pa > pb ? -1 : 1;
  const ca = a.created as string;
  const cb = b.created as string;
  if (ca !== cb) return ca < cb ? -1 : 1;
  return (a.r as number | string) < (b.r as number | string) ? -1 : 1;
}

/** The receipt token of a delivery: its receive count and `created` time. */
export function deliveryOf(received: number, created: string): string {
  return `${received}/${created}`;
}

/** A delivery token read back: `undefined` when it is not one of this engine's. */
function parseDelivery(delivery: string): [number, string] | undefined {
  const slash = delivery.indexOf("/");
  const received = Number(delivery.slice(0, slash));
  if (slash < 1 || !Number.isSafeInteger(received) || received < 0) return undefined;
  return [received, delivery.slice(slash + 1)];
}

function toMessage(row: Row): Message {
  const received = Number(row.received);
  return {
    id: row.id as string,
    delivery: deliveryOf(received, row.created as string),
    body: row.body as Uint8Array,
    received,
    priority: toPriority(row.priority),
  };
}

/**
 * The body's columns for a peek or a page of dead messages: the body, or its first `bodyBytes`
 * bytes (see {@linkcode bodyReadLength}), and its whole size. `table` prefixes the column (`"g."`).
 */
function bodyColumns(bodyBytes: number | undefined, table = ""): string {
  const body = `${table}body`;
  if (bodyBytes === undefined) return `${body}, length(${body}) as size`;
  return `substr(${body}, 1, ${bodyReadLength(bodyBytes)}) as body, length(${body}) as size`;
}

function toInfo(row: Row, bodyBytes?: number): MessageInfo {
  const message = toMessage(row);
  return {
    ...message,
    body: bodyStart(message.body, bodyBytes),
    created: new Date(row.created as string),
    timeout: new Date(row.timeout as string),
    size: Number(row.size),
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
  readonly room: WaitRoom;
  #internals: DatabaseInternals;

  constructor(db: Database, settings: OpsSettings) {
    this.db = db;
    this.settings = settings;
    this.#internals = internals(db);
    this.sql = buildSql(settings.maxReceive);
    this.room = roomOf(db);
  }

  /**
   * Inserts messages; returns their ids in order. Several inserts run one after the other: run
   * a batch inside a transaction. (No operation here opens a transaction of its own: the caller
   * decides, so that they run inside `Queue`'s lock handling or the caller's transaction.)
   */
  send(messages: readonly Outgoing[]): MessageId[] {
    if (messages.length === 0) return [];
    {
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
      this.room.sent(this.settings.name, messages);
      return ids;
    }
  }

  #insertTexts = new Map<number, string>();

  /** The insert SQL for `rows` messages, built once per size. */
  #insertText(rows: number): string {
    let sql = this.#insertTexts.get(rows);
    if (sql === undefined) this.#insertTexts.set(rows, sql = insertSql(rows));
    return sql;
  }

  #receiveText = new Map<number | "?4", string>();
  #readyText = new Map<number | "?4", string>();
  /** When this queue promotes due messages next, and how many. */
  #promotions = new PromotionPace();

  /** The receive SQL for a limit, built once per limit so the statement cache sees one string. */
  #receiveSql(limit: number | "?4", ready: boolean): string {
    const texts = ready ? this.#readyText : this.#receiveText;
    let sql = texts.get(limit);
    if (sql === undefined) {
      texts.set(limit, sql = ready ? this.sql.receiveReady(limit) : this.sql.receive(limit));
    }
    return sql;
  }

  /** Runs a receive statement for up to `max` messages. */
  #take(max: number, ready: boolean, timeout: string, now: string): Row[] {
    const literal = max <= MAX_LITERAL_LIMIT;
    const statement = this.#internals.statement(this.#receiveSql(literal ? max : "?4", ready));
    return literal
      ? statement.all(timeout, this.settings.name, now)
      : statement.all(timeout, this.settings.name, now, max);
  }

  /**
   * Receives up to `max` messages, in goqite's order. It reads the clock itself: run it while
   * the write lock is held (inside a transaction), so that the lease starts no earlier than the
   * lock. First, at the pace of {@linkcode PromotionPace}, it promotes due messages into
   * qite_ready_idx, where they join goqite's exact order; then it takes ready messages, and
   * only when there are not enough of them, due messages not yet promoted (the earliest due).
   */
  receive(max: number): Message[] {
    const now = this.settings.clock();
    this.lastReceive = now;
    const statements = this.#promotions.statements(now);
    if (statements > 0) {
      const promote = this.#internals.statement(this.sql.promote);
      const at = formatTime(now);
      let moved = 0;
      for (let s = 0; s < statements; s++) {
        moved = promote.run(this.settings.name, at);
        if (moved < PROMOTE_BATCH) break; // none left due
      }
      this.#promotions.moved(moved);
    }
    const timeout = formatTime(now + this.settings.timeout);
    const nowText = formatTime(now);
    // The ready messages first (one seek, in goqite's order); only if they do not fill the
    // batch, the due messages not yet promoted too.
    let rows = this.#take(max, true, timeout, nowText);
    if (rows.length < max) {
      rows = rows.concat(this.#take(max - rows.length, false, timeout, nowText));
    }
    this.#promotions.received(rows.length);
    if (rows.length > 1) rows.sort(byQueueOrder);
    return rows.map(toMessage);
  }

  /**
   * Up to `limit` visible messages in receive order, or delayed or in-flight ones, soonest
   * visible first; without receiving them.
   */
  peek(limit: number, state: PeekState = "visible", bodyBytes?: number): MessageInfo[] {
    const now = formatTime(this.settings.clock());
    const info = (row: Row): MessageInfo => toInfo(row, bodyBytes);
    if (state !== "visible") {
      const body = bodyColumns(bodyBytes);
      const sql = state === "delayed" ? this.sql.peekDelayed(body) : this.sql.peekInFlight(body);
      return this.#internals.statement(sql).all(this.settings.name, now, limit).map(info);
    }
    const literal = limit <= MAX_LITERAL_LIMIT;
    const statement = this.#internals.statement(
      this.sql.peek(literal ? limit : "?3", bodyColumns(bodyBytes, "g.")),
    );
    const rows = literal
      ? statement.all(this.settings.name, now)
      : statement.all(this.settings.name, now, limit);
    return rows.map(info);
  }

  /** The clock's reading at the last receive, for {@linkcode QueueOps.nextDue}. */
  lastReceive = 0;

  /**
   * Milliseconds from now until the earliest in-flight or delayed message of this queue that
   * was not yet visible at the last receive becomes visible (≤ 0: it already is), or `Infinity`
   * when there is none.
   */
  nextDue(): number {
    const now = this.settings.clock();
    const nowText = formatTime(this.lastReceive);
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

  /**
   * Sets visibility timeouts to now + `delay`; for each target, whether it applied. It reads
   * the clock itself: run it while the write lock is held.
   */
  extend(targets: readonly Target[], delay: number): boolean[] {
    const timeout = formatTime(this.settings.clock() + delay);
    const name = this.settings.name;
    const plain = this.#internals.statement(this.sql.extend);
    const fenced = this.#internals.statement(this.sql.extendFenced);
    const results = targets.map((target) => {
      if (target.delivery === undefined) return plain.run(timeout, name, target.id) > 0;
      const parsed = parseDelivery(target.delivery);
      return parsed !== undefined && fenced.run(timeout, name, target.id, ...parsed) > 0;
    });
    this.room.visibleIn(name, results.filter(Boolean).length, delay);
    return results;
  }

  /** Deletes messages; for each target, whether it applied. */
  delete(targets: readonly Target[]): boolean[] {
    const name = this.settings.name;
    const plain = this.#internals.statement(this.sql.delete);
    const fenced = this.#internals.statement(this.sql.deleteFenced);
    return targets.map((target) => {
      if (target.delivery === undefined) return plain.run(name, target.id) > 0;
      const parsed = parseDelivery(target.delivery);
      return parsed !== undefined && fenced.run(name, target.id, ...parsed) > 0;
    });
  }

  /**
   * Hands received messages back without counting the receive: visible again after `delay`,
   * behind the messages already waiting. Fenced: only while each delivery holds its message.
   */
  release(receipts: readonly Receipt[], delay: number): boolean[] {
    const now = this.settings.clock();
    const nowText = formatTime(now);
    const visible = formatTime(now + delay);
    const name = this.settings.name;
    const statement = this.#internals.statement(this.sql.release);
    const results = receipts.map((receipt) => {
      const parsed = parseDelivery(receipt.delivery);
      return parsed !== undefined &&
        statement.run(nowText, visible, name, receipt.id, ...parsed) > 0;
    });
    this.room.visibleIn(name, results.filter(Boolean).length, delay);
    return results;
  }

  /** Makes received messages dead at once. Fenced: only while each delivery holds its message. */
  bury(receipts: readonly Receipt[]): boolean[] {
    const now = formatTime(this.settings.clock());
    const name = this.settings.name;
    const statement = this.#internals.statement(this.sql.bury);
    return receipts.map((receipt) => {
      const parsed = parseDelivery(receipt.delivery);
      return parsed !== undefined && statement.run(now, name, receipt.id, ...parsed) > 0;
    });
  }

  /**
   * Resolves once a message buried through `receipt` is dead by the queue's clock. A dead
   * message's visibility time stays after its `created` time (so that receives never read it),
   * so one created, released or redriven in this very millisecond is dead from the next: this
   * waits that out (at most {@linkcode MAX_BURY_WAIT_MS} ms; a `created` further ahead, after
   * a clock that went back, is not waited for).
   */
  async untilDead(receipt: Receipt): Promise<void> {
    const created = Date.parse(receipt.delivery.slice(receipt.delivery.indexOf("/") + 1));
    const wait = created + 1 - this.settings.clock();
    if (wait <= 0 || wait > MAX_BURY_WAIT_MS) return;
    // A timer can fire before the clock has moved on (Node's timers run on a cached loop time),
    // so look at the clock again until it has, for at most a few more milliseconds.
    for (let i = 0; i <= MAX_BURY_WAIT_MS && this.settings.clock() <= created; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** A page of dead messages, oldest first, and the cursor of the next page. */
  listDead(limit: number, cursor: string | undefined, bodyBytes?: number): DeadPage {
    const [created = "", id = ""] = cursor === undefined ? [] : cursor.split(" ");
    const sql = this.sql.listDead(bodyColumns(bodyBytes));
    const rows = this.#internals.statement(sql).all(
      this.settings.name,
      formatTime(this.settings.clock()),
      created,
      id,
      limit + 1, // one more than the page, to know whether another page follows
    );
    const more = rows.length > limit;
    if (more) rows.length = limit;
    return {
      messages: rows.map((row) => toInfo(row, bodyBytes)),
      cursor: more ? cursorOf(rows[limit - 1]!) : undefined,
    };
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
      : ids.reduce((sum, id) => sum + one.run(name, now, id), 0);
    this.room.notify(name, count);
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
