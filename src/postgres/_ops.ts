/**
 * The operations of one PostgreSQL queue: each one statement (see `_sql.ts`), run on the pool or
 * on a caller's transaction. Arguments are validated before they get here; errors are not
 * mapped here.
 *
 * @module
 */

import type { PeekState } from "../queue_like.ts";
import type { DeadPage, Message, MessageId, MessageInfo, QueueStats, Receipt } from "../message.ts";
import type { Outgoing, Target } from "../_input.ts";
import { newId } from "../_time.ts";
import { bodyStart } from "../_bytes.ts";
import { PROMOTE_BATCH, PromotionPace } from "../_promotion.ts";
import type { PgDriver, PgRow, PgRunner, PgValue } from "./_client.ts";
import { bodyColumns, buildSql, MAX_LITERAL_LIMIT, type QueueSql } from "./_sql.ts";
import type { PgWake } from "./_wake.ts";

/** A queue's settings, validated. */
export interface PgSettings {
  readonly name: string;
  readonly timeout: number;
  readonly maxReceive: number;
  readonly maxBodySize: number;
  /** A clock that replaces the server's (tests only), in ms since the epoch. */
  readonly clock: (() => number) | undefined;
  /** The quoted table name. */
  readonly table: string;
}

/** Quotes strings into a PostgreSQL array literal (bound as one `text[]` parameter). */
function textArray(values: readonly string[]): string {
  return `{${
    values.map((value) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")
  }}`;
}

/** Numbers (or decimal text, or null) as a PostgreSQL array literal. */
function numberArray(values: readonly (number | string | null)[]): string {
  return `{${values.map((value) => value === null ? "NULL" : String(value)).join(",")}}`;
}

/** A delivery token read back: `[received, created µs]`, or `undefined` if it is not one. */
function parseDelivery(delivery: string): [number, string] | undefined {
  const match = /^(\d{1,9})\/(-?\d{1,19})$/.exec(delivery);
  // A time beyond int8 is no delivery of this engine's (and PostgreSQL would refuse to bind it).
  if (match === null || clampInt8(match[2]!) !== match[2]) return undefined;
  return [Number(match[1]), match[2]!];
}

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** A decimal integer of up to 19 digits, as text, held to `[min, max]`. */
function clamp(decimal: string, min: bigint, max: bigint): string {
  const value = BigInt(decimal);
  return String(value > max ? max : value < min ? min : value);
}

/** A decimal integer of up to 19 digits, as `int8` text, held to int8's range. */
function clampInt8(decimal: string): string {
  return clamp(decimal, INT8_MIN, INT8_MAX);
}

/**
 * A cursor's time in µs, held to times a `timestamptz` can hold (about 2600 BC to 148 000 AD):
 * beyond them, every message's time is on the same side, so the page is the same.
 */
function cursorMicros(decimal: string): string {
  return clamp(decimal, -(2n ** 57n), 2n ** 62n);
}

/** The receipt token of a delivery: its receive count and `created` time in µs. */
function deliveryOf(received: number, createdMicros: string): string {
  return `${received}/${createdMicros}`;
}

function toMessage(row: PgRow): Message {
  const received = Number(row.received);
  return {
    id: row.id as string,
    delivery: deliveryOf(received, row.created_us as string),
    body: row.body as Uint8Array,
    received,
    priority: Number(row.priority),
  };
}

function toInfo(row: PgRow, bodyBytes?: number): MessageInfo {
  const message = toMessage(row);
  return {
    ...message,
    body: bodyStart(message.body, bodyBytes),
    created: new Date(Number(row.created_ms)),
    timeout: new Date(Number(row.timeout_ms)),
    size: Number(row.size),
  };
}

/** Orders received rows as goqite hands them out: priority, then age, then id. */
function byQueueOrder(a: PgRow, b: PgRow): number {
  const pa = Number(a.priority);
  const pb = Number(b.priority);
  if (pa !== pb) return pb - pa;
  const ca = BigInt(a.created_us as string);
  const cb = BigInt(b.created_us as string);
  if (ca !== cb) return ca < cb ? -1 : 1;
  return (a.id as string) < (b.id as string) ? -1 : 1;
}

/**
 * Whether `id` holds U+0000, which PostgreSQL text cannot: no row has such an id, so an
 * operation on it applies to nothing (as on SQLite) without asking the server, which would
 * refuse the statement.
 */
function impossible(id: string): boolean {
  return id.includes("\u0000");
}

/**
 * Targets as the three arrays the batch statements take, or `undefined` if an id repeats or is
 * {@linkcode impossible} (then they go one by one).
 */
function targetArrays(targets: readonly Target[]): [string, string, string] | undefined {
  const ids = targets.map((target) => target.id);
  if (new Set(ids).size !== ids.length || ids.some(impossible)) return undefined;
  const received: (number | null)[] = [];
  const created: (string | null)[] = [];
  for (const target of targets) {
    const parsed = target.delivery === undefined ? undefined : parseDelivery(target.delivery);
    // A token that is not this engine's matches nothing: a count no row has.
    received.push(target.delivery === undefined ? null : parsed?.[0] ?? -1);
    created.push(target.delivery === undefined ? null : parsed?.[1] ?? "0");
  }
  return [textArray(ids), numberArray(received), numberArray(created)];
}

/**
 * Targets cut into rounds that each hold an id at most once (round k holds each id's k-th
 * occurrence, with its index in `targets`), leaving out {@linkcode impossible} ones. Running the
 * rounds one after the other does what running the targets one by one would: operations on
 * different ids do not interact, and each id's occurrences keep their order.
 */
function roundsOf<T extends Target>(targets: readonly T[]): { targets: T[]; at: number[] }[] {
  const rounds: { targets: T[]; at: number[] }[] = [];
  const seen = new Map<string, number>();
  targets.forEach((target, i) => {
    if (impossible(target.id)) return;
    const k = seen.get(target.id) ?? 0;
    seen.set(target.id, k + 1);
    (rounds[k] ??= { targets: [], at: [] }).targets.push(target);
    rounds[k]!.at.push(i);
  });
  return rounds;
}

/**
 * Runs `fn` in one transaction: the runner's own when it is already in one (a caller's, or the
 * queue's retry loop's), else a new one begun on the client, so that several statements commit
 * together or not at all.
 */
function atomically<T>(runner: PgRunner, fn: (tx: PgRunner) => Promise<T>): Promise<T> {
  const client = runner as PgRunner & Partial<Pick<PgDriver, "transaction">>;
  return client.transaction === undefined ? fn(runner) : client.transaction(fn);
}

/** For each of `count` targets, whether its ordinal (1-based) came back. */
function applied(rows: readonly PgRow[], count: number): boolean[] {
  const results: boolean[] = Array(count).fill(false);
  for (const row of rows) {
    if (row.ord !== null && row.ord !== undefined) results[Number(row.ord) - 1] = true;
  }
  return results;
}

/** The operations of one queue. */
export class PgOps {
  readonly settings: PgSettings;
  readonly sql: QueueSql;
  readonly wake: PgWake;
  /** The server's time at the last receive that found nothing, in ms (for `nextDue`). */
  lastReceive = 0;
  #receiveText = new Map<number | string, string>();
  #deleteReceiveText = new Map<number | string, string>();
  #peekText = new Map<number | string, string>();

  constructor(settings: PgSettings, wake: PgWake) {
    this.settings = settings;
    this.sql = buildSql(settings.table, settings.maxReceive);
    this.wake = wake;
  }

  /** When this queue promotes due messages next (by its clock, or this machine's), and how many. */
  #promotions = new PromotionPace();

  /**
   * Moves due messages into the ready index, where they join goqite's exact order (see the
   * module doc of `_sql.ts`), at the pace of {@linkcode PromotionPace}.
   */
  async #promote(runner: PgRunner): Promise<void> {
    const statements = this.#promotions.statements(this.settings.clock?.() ?? Date.now());
    if (statements === 0) return;
    const params = [this.#now(), this.settings.name];
    let moved = 0;
    for (let s = 0; s < statements; s++) {
      moved = Number((await runner.query(this.sql.promote, params))[0]?.n ?? 0);
      if (moved < PROMOTE_BATCH) break; // none left due
    }
    this.#promotions.moved(moved);
  }

  /** The time to bind as `$1`: the test clock's, or null for the server's statement time. */
  #now(): string | null {
    const clock = this.settings.clock;
    return clock === undefined ? null : new Date(clock()).toISOString();
  }

  /** A payload announcing `count` visible messages from `origin`. */
  payload(origin: string, count: number): string {
    return `${origin} ${count} ${this.settings.name}`;
  }

  /**
   * Inserts messages in one statement, notifying the table's channel in it. Ids are made here, so
   * a retried send (after a lost connection) inserts nothing twice.
   */
  async send(
    runner: PgRunner,
    messages: readonly Outgoing[],
    ids: readonly MessageId[],
    origin: string,
  ): Promise<void> {
    if (messages.length === 0) return;
    let visible = 0;
    for (const [, delay] of messages) if (delay === 0) visible++;
    const payload = this.payload(origin, visible);
    if (messages.length === 1) {
      const [body, delay, priority] = messages[0]!;
      await runner.query(this.sql.sendOne, [
        this.#now(),
        this.settings.name,
        ids[0]!,
        body,
        delay,
        Number(priority),
        await this.wake.channel(runner),
        payload,
      ]);
    } else {
      await this.#sendMany(runner, messages, ids, payload);
    }
    if (origin === this.wake.origin) this.wake.room.sent(this.settings.name, messages);
  }

  async #sendMany(
    runner: PgRunner,
    messages: readonly Outgoing[],
    ids: readonly MessageId[],
    payload: string,
  ): Promise<void> {
    let total = 0;
    for (const [body] of messages) total += body.length;
    const bodies = new Uint8Array(total);
    let offset = 0;
    for (const [body] of messages) {
      bodies.set(body, offset);
      offset += body.length;
    }
    await runner.query(this.sql.sendMany, [
      this.#now(),
      this.settings.name,
      textArray(ids),
      bodies,
      numberArray(messages.map(([body]) => body.length)),
      numberArray(messages.map(([, delay]) => delay)),
      numberArray(messages.map(([, , priority]) => Number(priority))),
      await this.wake.channel(runner),
      payload,
    ]);
  }

  /** New ids for `count` messages. */
  newIds(count: number): MessageId[] {
    return Array.from({ length: count }, newId);
  }

  #cached(cache: Map<number | string, string>, key: number | string, build: () => string): string {
    let text = cache.get(key);
    if (text === undefined) cache.set(key, text = build());
    return text;
  }

  #received(rows: PgRow[]): Message[] {
    const messages = rows.filter((row) => row.id !== null && row.id !== undefined);
    if (messages.length === 0) {
      const now = rows[0]?.now_ms;
      if (now !== undefined && now !== null) this.lastReceive = Number(now);
    }
    this.#promotions.received(messages.length);
    if (messages.length > 1) messages.sort(byQueueOrder);
    return messages.map(toMessage);
  }

  /** Receives up to `max` messages in one statement. */
  async receive(runner: PgRunner, max: number): Promise<Message[]> {
    await this.#promote(runner);
    const literal = max <= MAX_LITERAL_LIMIT;
    const key = literal ? max : "$4";
    const text = this.#cached(this.#receiveText, key, () => this.sql.receive(key as number | "$4"));
    const params: PgValue[] = [this.#now(), this.settings.name, this.settings.timeout];
    if (!literal) params.push(max);
    return this.#received(await runner.query(text, params));
  }

  /** Deletes targets and receives up to `max` messages, in one statement. */
  async deleteAndReceive(
    runner: PgRunner,
    targets: readonly Target[],
    max: number,
  ): Promise<{ deleted: boolean[]; messages: Message[] }> {
    await this.#promote(runner);
    const arrays = targetArrays(targets);
    if (arrays === undefined || targets.length === 0) {
      // Repeated ids: the deletes in rounds, then the receive, in one transaction.
      return await this.#inOrder(runner, targets, max);
    }
    const literal = max <= MAX_LITERAL_LIMIT;
    const key = literal ? max : "$7";
    const text = this.#cached(
      this.#deleteReceiveText,
      key,
      () => this.sql.deleteAndReceive(key as number | "$7"),
    );
    const params: PgValue[] = [this.#now(), this.settings.name, this.settings.timeout, ...arrays];
    if (!literal) params.push(max);
    const rows = await runner.query(text, params);
    return {
      deleted: applied(rows.filter((row) => row.kind === "d"), targets.length),
      messages: this.#received(rows.filter((row) => row.kind === "r")),
    };
  }

  /** The deletes, then the receive, in one transaction. */
  #inOrder(
    runner: PgRunner,
    targets: readonly Target[],
    max: number,
  ): Promise<{ deleted: boolean[]; messages: Message[] }> {
    const both = async (tx: PgRunner): Promise<{ deleted: boolean[]; messages: Message[] }> => {
      const deleted = await this.delete(tx, targets);
      return { deleted, messages: await this.receive(tx, max) };
    };
    return targets.length === 0 ? both(runner) : atomically(runner, both);
  }

  /**
   * For each target, whether `many` applied to it: at once when no id repeats, else round by
   * round ({@linkcode roundsOf}) in one transaction, so that the batch still commits whole.
   */
  async #inRounds<T extends Target>(
    runner: PgRunner,
    targets: readonly T[],
    many: (runner: PgRunner, targets: readonly T[]) => Promise<boolean[]>,
  ): Promise<boolean[]> {
    const rounds = roundsOf(targets);
    if (rounds.length === 1 && rounds[0]!.targets.length === targets.length) {
      return await many(runner, targets);
    }
    const results: boolean[] = Array(targets.length).fill(false);
    if (rounds.length === 0) return results;
    await atomically(runner, async (tx) => {
      for (const round of rounds) {
        const done = await many(tx, round.targets);
        round.at.forEach((i, j) => results[i] = done[j]!);
      }
    });
    return results;
  }

  /**
   * Up to `limit` visible messages in receive order, or delayed or in-flight ones, soonest
   * visible first; without receiving them.
   */
  async peek(
    runner: PgRunner,
    limit: number,
    state: PeekState = "visible",
    bodyBytes?: number,
  ): Promise<MessageInfo[]> {
    const info = (row: PgRow): MessageInfo => toInfo(row, bodyBytes);
    if (state !== "visible") {
      const body = bodyColumns("", bodyBytes);
      const text = state === "delayed" ? this.sql.peekDelayed(body) : this.sql.peekInFlight(body);
      return (await runner.query(text, [this.#now(), this.settings.name, limit])).map(info);
    }
    const literal = limit <= MAX_LITERAL_LIMIT;
    const key = literal ? limit : "$3";
    const text = this.#cached(
      this.#peekText,
      `${key} ${bodyBytes}`,
      () => this.sql.peek(key as number | "$3", bodyColumns("g", bodyBytes)),
    );
    const params: PgValue[] = [this.#now(), this.settings.name];
    if (!literal) params.push(limit);
    return (await runner.query(text, params)).map(info);
  }

  /**
   * Milliseconds until the earliest in-flight or delayed message that was not visible at the
   * last receive becomes visible (≤ 0: it already is), or `Infinity` when there is none.
   */
  async nextDue(runner: PgRunner): Promise<number> {
    const [row] = await runner.query(this.sql.nextDue, [
      this.#now(),
      this.settings.name,
      this.lastReceive,
    ]);
    const due = row?.due;
    return due === null || due === undefined ? Infinity : Number(due);
  }

  /** Sets visibility timeouts to now + `delay`; for each target, whether it applied. */
  async extend(runner: PgRunner, targets: readonly Target[], delay: number): Promise<boolean[]> {
    const results = await this.#extend(runner, targets, delay);
    this.wake.room.visibleIn(this.settings.name, results.filter(Boolean).length, delay);
    return results;
  }

  async #extend(runner: PgRunner, targets: readonly Target[], delay: number): Promise<boolean[]> {
    if (targets.length === 0) return [];
    if (targets.length === 1) return [await this.#extendOne(runner, targets[0]!, delay)];
    return await this.#inRounds(runner, targets, async (r, round) => {
      if (round.length === 1) return [await this.#extendOne(r, round[0]!, delay)];
      const rows = await r.query(this.sql.extend, [
        this.#now(),
        this.settings.name,
        delay,
        ...targetArrays(round)!,
      ]);
      return applied(rows, round.length);
    });
  }

  async #extendOne(runner: PgRunner, target: Target, delay: number): Promise<boolean> {
    if (impossible(target.id)) return false;
    const base: PgValue[] = [this.#now(), this.settings.name, delay, target.id];
    if (target.delivery === undefined) {
      return Number((await runner.query(this.sql.extendOne, base))[0]?.n) > 0;
    }
    const parsed = parseDelivery(target.delivery);
    if (parsed === undefined) return false;
    return Number((await runner.query(this.sql.extendOneFenced, [...base, ...parsed]))[0]?.n) > 0;
  }

  /** Deletes messages; for each target, whether it applied. */
  async delete(runner: PgRunner, targets: readonly Target[]): Promise<boolean[]> {
    if (targets.length === 0) return [];
    if (targets.length === 1) return [await this.#deleteOne(runner, targets[0]!)];
    return await this.#inRounds(runner, targets, async (r, round) => {
      if (round.length === 1) return [await this.#deleteOne(r, round[0]!)];
      const rows = await r.query(this.sql.delete, [this.settings.name, ...targetArrays(round)!]);
      return applied(rows, round.length);
    });
  }

  async #deleteOne(runner: PgRunner, target: Target): Promise<boolean> {
    if (impossible(target.id)) return false;
    if (target.delivery === undefined) {
      const rows = await runner.query(this.sql.deleteOne, [this.settings.name, target.id]);
      return Number(rows[0]?.n) > 0;
    }
    const parsed = parseDelivery(target.delivery);
    if (parsed === undefined) return false;
    const rows = await runner.query(this.sql.deleteOneFenced, [
      this.settings.name,
      target.id,
      ...parsed,
    ]);
    return Number(rows[0]?.n) > 0;
  }

  /**
   * Hands deliveries back without counting the receive; with no delay, notifies the channel in
   * the same statement. Returns, for each receipt, whether it applied.
   */
  async release(
    runner: PgRunner,
    receipts: readonly Receipt[],
    delay: number,
    origin: string,
  ): Promise<boolean[]> {
    if (receipts.length === 0) return [];
    const arrays = targetArrays(receipts);
    if (arrays === undefined) {
      return await this.#inRounds(
        runner,
        receipts,
        (r, round) => this.release(r, round, delay, origin),
      );
    }
    const notify = delay === 0;
    const params: PgValue[] = [this.#now(), this.settings.name, delay, ...arrays];
    if (notify) params.push(await this.wake.channel(runner), origin);
    const rows = await runner.query(this.sql.release(notify), params);
    const results = applied(rows, receipts.length);
    // Another origin's waiters hear a release without a delay through the channel's notification.
    if (!notify || origin === this.wake.origin) {
      this.wake.room.visibleIn(this.settings.name, results.filter(Boolean).length, delay);
    }
    return results;
  }

  /** Makes a delivery dead at once; whether it applied. */
  async bury(runner: PgRunner, receipt: Receipt): Promise<boolean> {
    const parsed = parseDelivery(receipt.delivery);
    if (parsed === undefined || impossible(receipt.id)) return false;
    const rows = await runner.query(this.sql.bury, [
      this.#now(),
      this.settings.name,
      receipt.id,
      ...parsed,
    ]);
    return Number(rows[0]?.n) > 0;
  }

  /** A page of dead messages, oldest first, and the cursor of the next page. */
  async listDead(
    runner: PgRunner,
    limit: number,
    cursor: string | undefined,
    bodyBytes?: number,
  ): Promise<DeadPage> {
    const [created = null, id = ""] = cursor === undefined ? [] : cursor.split(" ");
    const rows = await runner.query(this.sql.listDead(bodyColumns("", bodyBytes)), [
      this.#now(),
      this.settings.name,
      created === null ? null : cursorMicros(created),
      id,
      limit + 1, // one more than the page, to know whether another page follows
    ]);
    const more = rows.length > limit;
    const messages = (more ? rows.slice(0, limit) : rows).map((row) => toInfo(row, bodyBytes));
    const last = more ? rows[limit - 1]! : undefined;
    return {
      messages,
      cursor: last === undefined ? undefined : `${last.created_us as string} ${last.id as string}`,
    };
  }

  /** How many messages are dead. */
  async countDead(runner: PgRunner): Promise<number> {
    const rows = await runner.query(this.sql.countDead, [this.#now(), this.settings.name]);
    return Number(rows[0]?.n);
  }

  /** Makes dead messages receivable again (all, or the given ids); returns how many. */
  async redrive(
    runner: PgRunner,
    ids: readonly MessageId[] | undefined,
    origin: string,
  ): Promise<number> {
    if (ids !== undefined) ids = ids.filter((id) => !impossible(id));
    if (ids !== undefined && ids.length === 0) return 0;
    const params: PgValue[] = [
      this.#now(),
      this.settings.name,
      await this.wake.channel(runner),
      origin,
    ];
    const rows = ids === undefined
      ? await runner.query(this.sql.redriveAll, params)
      : await runner.query(this.sql.redriveSome, [...params, textArray(ids)]);
    const count = Number(rows[0]?.n);
    if (origin === this.wake.origin) this.wake.room.notify(this.settings.name, count);
    return count;
  }

  /** Deletes the dead messages; returns how many. */
  async purgeDead(runner: PgRunner): Promise<number> {
    const rows = await runner.query(this.sql.purgeDead, [this.#now(), this.settings.name]);
    return Number(rows[0]?.n);
  }

  /** Deletes every message of the queue; returns how many. */
  async purge(runner: PgRunner): Promise<number> {
    return Number((await runner.query(this.sql.purge, [this.settings.name]))[0]?.n);
  }

  /** Exact counts by state, and the age of the oldest visible message. */
  async stats(runner: PgRunner): Promise<QueueStats> {
    const [row] = await runner.query(this.sql.stats, [this.#now(), this.settings.name]);
    const age = row?.oldest_age;
    return {
      total: Number(row?.total),
      visible: Number(row?.visible),
      inFlight: Number(row?.in_flight),
      delayed: Number(row?.delayed),
      dead: Number(row?.dead),
      oldestVisibleAge: age === null || age === undefined
        ? undefined
        // Whole milliseconds, as on SQLite (whose times have no finer part).
        : Math.max(0, Math.floor(Number(age))),
    };
  }
}
