/**
 * Wake-ups for the PostgreSQL engine: one {@linkcode WaitRoom} per client (pool) and table per
 * process, fed by sends in this process and by LISTEN on one channel for the commits of others.
 *
 * The channel belongs to the table: `qite.{schema}` for the schema it is in, however a queue
 * finds it. A queue that names no schema learns the schema from the server (where `goqite` is on
 * its connection's `search_path`, else where `setup` would create it) before its first
 * notification or subscription, and keeps it once the table is found; so queues that name the
 * schema and queues that find the table on the search path wake each other, and tables in
 * different schemas do not share a channel.
 *
 * Every send (and every release or redrive that makes messages visible) runs `pg_notify` in its
 * own statement, so the notification leaves with the commit, and a rolled-back send wakes no
 * one. Its payload is `origin count queue`: the room that sent it (so a room ignores its own
 * echo, having woken its waiters at once), how many messages became visible, and the queue.
 * A send inside the caller's transaction has origin `-`: this process learns of it from the echo
 * too, once it commits.
 *
 * The subscription starts when the first consumer waits and lasts until the last queue on the
 * room is closed. While consumers wait, a heartbeat notification goes out every
 * {@linkcode HEARTBEAT_MS}; if it does not come back within {@linkcode PING_TIMEOUT_MS} (the
 * listening connection is down, or the client cannot listen at all), the waiters are woken every
 * {@linkcode FALLBACK_POLL_MS} instead, until a heartbeat comes back. Whenever the subscription
 * is (re)established (postgres.js says so), and at every heartbeat (Bun.sql reopens it without
 * saying), every line's first waiter looks again, for what was sent in between.
 *
 * @module
 */

import { WaitRoom } from "../_waiting.ts";
import type { PgDriver, PgRunner, PgSubscription } from "./_client.ts";

/** How often a heartbeat goes out while consumers wait, in ms. */
export const HEARTBEAT_MS = 1000;

/** How long a heartbeat may take to come back before the subscription counts as down, in ms. */
export const PING_TIMEOUT_MS = 800;

/** How often waiters are woken while the subscription is down, in ms. */
export const FALLBACK_POLL_MS = 25;

/** After this many heartbeats lost in a row, qite subscribes anew. */
const RESUBSCRIBE_AFTER = 3;

/** The origin of sends made inside a caller's transaction: their echo is always heard. */
export const FOREIGN_ORIGIN = "-";

/**
 * The schema of the `goqite` table on the search path, if there is one, and the schema an
 * unqualified `create table` would use (`null` when no schema of the search path exists).
 */
const SCHEMA_OF_TABLE = `select (select n.nspname::text from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where c.oid = to_regclass('goqite')) as found,
  current_schema()::text as current`;

/** The channel used while no schema of the search path exists: nothing can be sent then. */
const NO_SCHEMA_CHANNEL = "qite";

function randomOrigin(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The waiters of one client and table in this process, and their subscription. */
export class PgWake {
  readonly room: WaitRoom;
  /** This room's origin in payloads. */
  readonly origin: string = randomOrigin();
  readonly #driver: PgDriver;
  /** The channel, once known for good: at once for a named schema, else once the table is found. */
  #channel: string | undefined;
  /** The pool's lookup of the channel under way. */
  #resolving: Promise<string> | undefined;
  #queues = 0;
  #subscription: Promise<PgSubscription | undefined> | undefined;
  /** The channel of the subscription. */
  #subscribed: string | undefined;
  /** Counts subscriptions begun and ended, so that one ended before it began listens not. */
  #generation = 0;
  /** Whether notifications are known to arrive. */
  #up = false;
  /** Heartbeats lost in a row. */
  #lost = 0;
  #busy = false;
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  #pingCheck: ReturnType<typeof setTimeout> | undefined;
  #fallback: ReturnType<typeof setTimeout> | undefined;
  #ping = 0;
  /** The heartbeat not yet back, or 0. */
  #awaiting = 0;

  /**
   * @param driver The client.
   * @param schema The schema the queues name, or `undefined` for the search path.
   */
  constructor(driver: PgDriver, schema: string | undefined) {
    this.#driver = driver;
    if (schema !== undefined) this.#channel = channelOf(schema);
    this.room = new WaitRoom((busy) => busy ? this.#start() : this.#stop());
  }

  /**
   * The table's channel: at once when it is known, else looked up on `runner` (which may be a
   * caller's transaction: a pool with one connection that the transaction holds could not run
   * it). An answer found while the table does not exist yet is not kept.
   */
  channel(runner: PgRunner): string | Promise<string> {
    if (this.#channel !== undefined) return this.#channel;
    if (runner !== this.#driver) return this.#lookUp(runner);
    this.#resolving ??= this.#lookUp(runner).finally(() => this.#resolving = undefined);
    return this.#resolving;
  }

  async #lookUp(runner: PgRunner): Promise<string> {
    const [row] = await runner.query(SCHEMA_OF_TABLE, []);
    if (this.#channel !== undefined) return this.#channel;
    let channel: string;
    if (typeof row?.found === "string") channel = this.#channel = channelOf(row.found);
    else channel = typeof row?.current === "string" ? channelOf(row.current) : NO_SCHEMA_CHANNEL;
    if (this.#subscribed !== undefined && this.#subscribed !== channel) {
      // Subscribed where the table was not (it has been created elsewhere since): move.
      this.#unsubscribe();
      if (this.#busy) this.#subscribe();
    }
    return channel;
  }

  /** A queue starts using this room. */
  acquire(): void {
    this.#queues++;
  }

  /** A queue closed: on the last one, the subscription ends. Returns whether it was the last. */
  release(): boolean {
    if (--this.#queues > 0) return false;
    this.#stop();
    this.#unsubscribe();
    this.#up = false;
    return true;
  }

  /** Whether notifications are known to arrive (for tests). */
  get listening(): boolean {
    return this.#up;
  }

  /** Whether nobody waits and no timer of this room is pending (for tests). */
  get idle(): boolean {
    return this.room.size === 0 && this.#heartbeat === undefined &&
      this.#pingCheck === undefined && this.#fallback === undefined;
  }

  #start(): void {
    this.#busy = true;
    this.#subscribe();
    this.#scheduleHeartbeat(this.#up ? HEARTBEAT_MS : 0);
    this.#scheduleFallback();
  }

  #stop(): void {
    this.#busy = false;
    for (const timer of [this.#heartbeat, this.#pingCheck, this.#fallback]) {
      if (timer !== undefined) clearTimeout(timer);
    }
    this.#heartbeat = this.#pingCheck = this.#fallback = undefined;
    this.#awaiting = 0;
  }

  #subscribe(): void {
    if (this.#driver.listen === undefined) return;
    if (this.#subscription !== undefined) {
      // Subscribed where `setup` would create the table: if it has been created elsewhere, move.
      if (this.#channel === undefined && this.#subscribed !== undefined) {
        Promise.resolve(this.channel(this.#driver)).catch(() => undefined);
      }
      return;
    }
    const generation = ++this.#generation;
    this.#subscription = this.#listen(generation).catch(() => {
      // Not listening: the heartbeat finds out, and waiters are polled meanwhile.
      if (this.#generation === generation) this.#subscription = this.#subscribed = undefined;
      return undefined;
    });
  }

  async #listen(generation: number): Promise<PgSubscription | undefined> {
    const channel = await this.channel(this.#driver);
    if (this.#generation !== generation) return undefined; // unsubscribed meanwhile
    this.#subscribed = channel;
    return await this.#driver.listen!(
      channel,
      (payload) => this.#onPayload(payload),
      () => {
        // (Re)subscribed: what was sent while the subscription was down has been missed.
        this.#markUp();
        this.room.notifyAll();
      },
    );
  }

  #unsubscribe(): void {
    const subscription = this.#subscription;
    this.#generation++;
    this.#subscription = this.#subscribed = undefined;
    void subscription?.then((s) => s?.unlisten());
  }

  /** Notifications arrive: if they did not, the first waiters look for what was missed. */
  #markUp(): void {
    const wasUp = this.#up;
    this.#up = true;
    this.#lost = 0;
    if (this.#fallback !== undefined) clearTimeout(this.#fallback);
    this.#fallback = undefined;
    if (!wasUp) this.room.notifyAll();
  }

  #onPayload(payload: string): void {
    const first = payload.indexOf(" ");
    const second = payload.indexOf(" ", first + 1);
    if (first < 0 || second < 0) return;
    const origin = payload.slice(0, first);
    const count = payload.slice(first + 1, second);
    const rest = payload.slice(second + 1);
    if (origin === "ping") {
      if (count === this.origin && this.#awaiting !== 0 && rest === String(this.#awaiting)) {
        this.#awaiting = 0;
        this.#markUp();
      }
      return;
    }
    if (origin === this.origin) return;
    // Count 0 is a delayed message: it may be due before the first waiter's next poll.
    this.room.notify(rest, Math.max(1, Number(count) || 0));
  }

  #scheduleHeartbeat(delay: number): void {
    if (!this.#busy || this.#heartbeat !== undefined) return;
    this.#heartbeat = setTimeout(() => {
      this.#heartbeat = undefined;
      this.#beat();
    }, delay);
  }

  #beat(): void {
    if (!this.#busy) return;
    this.#scheduleHeartbeat(HEARTBEAT_MS);
    // A notification lost while the subscription was being reopened (which not every client
    // reports) delays a waiter by one heartbeat at most.
    this.room.notifyAll();
    if (this.#driver.listen === undefined) return;
    this.#subscribe();
    const ping = this.#awaiting = ++this.#ping;
    // While the table is not found, this looks it up again, and moves the subscription if need be.
    (async () => {
      await this.#driver.query("select pg_notify($1::text, $2::text) is null as sent", [
        await this.channel(this.#driver),
        `ping ${this.origin} ${ping}`,
      ]);
    })().catch(() => undefined);
    if (this.#pingCheck !== undefined) clearTimeout(this.#pingCheck);
    this.#pingCheck = setTimeout(() => {
      this.#pingCheck = undefined;
      if (this.#busy && this.#awaiting === ping) this.#lose();
    }, PING_TIMEOUT_MS);
  }

  /** A heartbeat did not come back: poll, and after a few, subscribe anew. */
  #lose(): void {
    this.#up = false;
    if (++this.#lost >= RESUBSCRIBE_AFTER) {
      this.#lost = 0;
      this.#unsubscribe();
      this.#subscribe();
    }
    this.#scheduleFallback();
  }

  #scheduleFallback(): void {
    if (!this.#busy || this.#fallback !== undefined || this.#up) return;
    this.#fallback = setTimeout(() => {
      this.#fallback = undefined;
      if (!this.#busy || this.#up) return;
      this.room.notifyAll();
      this.#scheduleFallback();
    }, FALLBACK_POLL_MS);
  }
}

const byClient = new WeakMap<object, Map<string | undefined, PgWake>>();

/**
 * The wake-up of a client and schema in this process: shared by every queue on the same client
 * that names the same schema (or none), so that a send on one wakes waiters on another at once.
 * (Queues on one client that reach one table both ways have two wake-ups on one channel: they
 * wake each other through the server.)
 *
 * @param driver The client.
 * @param schema The schema the queue names, or `undefined` for the search path.
 */
export function wakeOf(driver: PgDriver, schema: string | undefined): PgWake {
  let wakes = byClient.get(driver.native);
  if (wakes === undefined) byClient.set(driver.native, wakes = new Map());
  let wake = wakes.get(schema);
  if (wake === undefined) wakes.set(schema, wake = new PgWake(driver, schema));
  return wake;
}

/**
 * The notification channel of the `goqite` table in `schema`: `qite.{schema}`, shortened with a
 * hash past PostgreSQL's 63 bytes.
 *
 * @param schema The table's schema.
 */
export function channelOf(schema: string): string {
  const channel = `qite.${schema}`;
  if (new TextEncoder().encode(channel).length <= 63) return channel;
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(schema)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return `qite.${schema.replace(/[^A-Za-z0-9_]/g, "").slice(0, 40)}.${hash.toString(16)}`;
}
