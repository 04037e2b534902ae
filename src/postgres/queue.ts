/**
 * The PostgresQueue: goqite's named queue on a PostgreSQL table.
 *
 * @module
 */

import { QueueError } from "../errors.ts";
import type {
  DeadPage,
  Message,
  MessageId,
  MessageInfo,
  QueueStats,
  Receipt,
  SendMessage,
} from "../message.ts";
import {
  checkBodyBytes,
  checkDuration,
  checkPeekOptions,
  checkQueueName,
  type Outgoing,
  parseList,
  parseMessage,
  toReceipt,
  toTarget,
} from "../_input.ts";
import {
  checkedClock,
  checkInteger,
  checkName,
  checkObject,
  checkPositive,
  checkSignal,
  show,
} from "../_validate.ts";
import type {
  DeleteAndReceiveResult,
  ListDeadOptions,
  PeekOptions,
  QueueLike,
  ReceiveAndWaitOptions,
} from "../queue_like.ts";
import {
  type PgDriver,
  type PgRunner,
  type PostgresClient,
  type PostgresDriverName,
  wrapClient,
  wrapTransaction,
} from "./_client.ts";
import { classify, mayBeEnded, retried, toQueueError } from "./_errors.ts";
import { PgOps } from "./_ops.ts";
import { tableName } from "./_sql.ts";
import { FOREIGN_ORIGIN, type PgWake, wakeOf } from "./_wake.ts";
import { checkSchema } from "./schema.ts";

/** Options for {@linkcode PostgresQueue}. */
export interface PostgresQueueOptions {
  /**
   * The client: a postgres.js `sql` (the npm package `postgres`) or a Bun.SQL instance
   * (`Bun.sql`, `new Bun.SQL(url)`). qite runs its statements on it and never ends it: end it
   * yourself after closing the queues.
   */
  sql: PostgresClient;
  /**
   * The queue's name. Many queues share one table; names keep them apart. On PostgreSQL a name
   * holds no U+0000 and at most 2048 bytes of UTF-8 (it is a column of goqite's index, whose
   * rows PostgreSQL limits to 2704 bytes).
   */
  name: string;
  /**
   * The PostgreSQL schema of the `goqite` table. By default the table is found on the
   * connection's `search_path`, as goqite does.
   */
  schema?: string;
  /**
   * How long, in milliseconds, a received message stays invisible before it can be received
   * again.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * How many times a message can be received. After that it is dead: never handed out again,
   * left in the table.
   *
   * @default {3}
   */
  maxReceive?: number;
  /**
   * The largest body, in bytes, that `send` accepts; a larger one is refused with a
   * `RangeError` before anything is written. (PostgreSQL's own limit for `bytea` is 1 GB.)
   *
   * @default {67108864}
   */
  maxBodySize?: number;
  /**
   * How long, in milliseconds, qite retries an operation whose connection was lost (the server
   * restarted, an administrator ended the session, the network dropped) or that met a
   * serialization failure or deadlock, before reporting it. Retries are safe: each operation is
   * one statement, a send re-inserts nothing its lost commit already wrote (its ids are made
   * before the first try), and a fenced operation retried after its commit reports `false`.
   *
   * @default {5000}
   */
  retryTimeout?: number;
  /**
   * A clock, in milliseconds since the epoch, that replaces the database server's: for tests
   * only. By default every time comes from the server's clock, so machines whose clocks
   * disagree still agree on leases and delays.
   */
  clock?: () => number;
}

/**
 * A PostgresQueue's operations inside the caller's transaction (see
 * {@linkcode PostgresQueue.with}): everything done through it commits or rolls back with the
 * transaction. Operations are not retried here: a failure fails the transaction, as any
 * statement would.
 */
export interface PostgresQueueTransaction {
  /** The queue. */
  readonly queue: PostgresQueue;
  /** Like {@linkcode PostgresQueue.send}; waiters wake when the transaction commits. */
  send(message: SendMessage): Promise<MessageId>;
  /** Like {@linkcode PostgresQueue.sendBatch}. */
  sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]>;
  /** Like {@linkcode PostgresQueue.receive}. */
  receive(): Promise<Message | undefined>;
  /** Like {@linkcode PostgresQueue.receiveBatch}. */
  receiveBatch(max: number): Promise<Message[]>;
  /** Like {@linkcode PostgresQueue.extend}. */
  extend(target: MessageId | Receipt, delay: number): Promise<boolean>;
  /** Like {@linkcode PostgresQueue.extendBatch}. */
  extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]>;
  /** Like {@linkcode PostgresQueue.delete}. */
  delete(target: MessageId | Receipt): Promise<boolean>;
  /** Like {@linkcode PostgresQueue.deleteBatch}. */
  deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]>;
  /** Like {@linkcode PostgresQueue.release}. */
  release(receipt: Receipt, delay?: number): Promise<boolean>;
  /** Like {@linkcode PostgresQueue.bury}. */
  bury(receipt: Receipt): Promise<boolean>;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_RECEIVE = 3;
const DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024;
const DEFAULT_INTERVAL_MS = 100;
const DEFAULT_RETRY_TIMEOUT_MS = 5000;
const CURSOR = /^-?\d{1,19} \S+$/;
const INT4_MIN = -2147483648;
const INT4_MAX = 2147483647;

/**
 * The longest queue name, in UTF-8 bytes. The name is a column of goqite's index and of qite's
 * two, and PostgreSQL refuses an index row over 2704 bytes (a third of a page): a name that does
 * not compress (random characters) and is much longer than 2048 bytes cannot be sent to. (Every
 * send also notifies with the name in its payload, which must stay under 8000 bytes.)
 */
const MAX_NAME_BYTES = 2048;

/** Refuses a queue name that PostgreSQL's text or its notifications cannot carry. */
function checkPostgresName(action: string, name: string): void {
  if (name.includes("\u0000")) {
    throw new TypeError(
      `Cannot ${action} as 'name' holds U+0000, which PostgreSQL text cannot: current value is ${
        show(name)
      }`,
    );
  }
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_NAME_BYTES) {
    throw new RangeError(
      `Cannot ${action} as 'name' must be at most ${MAX_NAME_BYTES} bytes of UTF-8 on ` +
        `PostgreSQL: current size is ${bytes}`,
    );
  }
}

/** The first retry comes after about this many ms; the pause doubles up to the cap. */
const RETRY_BASE_MS = 5;
const RETRY_CAP_MS = 250;

/**
 * Per client: whether its sessions run at READ COMMITTED by default (PostgreSQL's default). Then
 * qite's statements run as they are, each its own READ COMMITTED transaction; otherwise (a
 * server, database or role set to REPEATABLE READ or SERIALIZABLE) each runs inside
 * `begin isolation level read committed`, which costs two more round trips.
 */
const readCommitted = new WeakMap<object, Promise<boolean>>();

function readCommittedByDefault(driver: PgDriver): Promise<boolean> {
  let known = readCommitted.get(driver.native);
  if (known === undefined) {
    known = driver.query(
      "select current_setting('default_transaction_isolation') = 'read committed' as rc",
      [],
    ).then((rows) => rows[0]?.rc === true);
    readCommitted.set(driver.native, known);
    known.catch(() => readCommitted.delete(driver.native));
  }
  return known;
}

let opsOf: (queue: PostgresQueue) => PgOps;
let assertOpenOf: (queue: PostgresQueue, action: string) => void;

/** Where an operation runs: the pool (retried), or a caller's transaction (as it is). */
interface Place {
  /** Runs the statement(s) of an operation. */
  run<T>(action: string, work: (runner: PgRunner) => Promise<T>): Promise<T>;
  /** The origin of its notifications. */
  readonly origin: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Checks a message's priority against PostgreSQL's `integer` column. */
function checkIntegerPriority(action: string, message: Outgoing): Outgoing {
  const priority = message[2];
  if (typeof priority === "bigint" || priority < INT4_MIN || priority > INT4_MAX) {
    throw new RangeError(
      `Cannot ${action} as 'priority' must be an integer from ${INT4_MIN} to ${INT4_MAX} ` +
        `(PostgreSQL's integer column): current value is ${show(priority)}`,
    );
  }
  return message;
}

/**
 * A named queue of messages in the `goqite` table on PostgreSQL, with the same operations and
 * semantics as the SQLite `Queue`: a received message is invisible for the queue's timeout and
 * is never handed out twice inside it; after `maxReceive` receives it is dead. goqite (Go) and
 * qite share the table: same columns and types, same ids, and messages flow both ways.
 *
 * - Each operation is one statement at READ COMMITTED: as it is where that is the sessions'
 *   default (PostgreSQL's), inside `begin isolation level read committed` where the server,
 *   database or role sets a stricter one. So concurrent consumers never meet serialization
 *   failures. A receive locks its candidates with `FOR UPDATE SKIP LOCKED`: consumers pass
 *   each other instead of waiting. Priority order is exact for one consumer, and best effort
 *   across concurrent ones (one may skip a message another has locked and take the next).
 * - Every time comes from the database server's clock (`now()`), so machines whose clocks
 *   disagree agree on leases and delays.
 * - Waiting consumers are woken by LISTEN/NOTIFY: a send notifies in its own statement, so a
 *   send that rolls back wakes no one. While the listening connection is down, they poll.
 * - A connection lost mid-operation (or a serialization failure, if the server's default
 *   isolation is stricter) is retried for `retryTimeout` ms before it is reported.
 *
 * @example Sending, receiving and deleting
 * ```ts
 * import postgres from "postgres";
 * import { PostgresQueue, setup } from "@qite/qite/postgres";
 * import assert from "node:assert/strict";
 *
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
 * await sql.unsafe("drop schema if exists qite_doc_queue cascade"); // left by a run that was cut short
 * await setup(sql, { schema: "qite_doc_queue" });
 * const queue = new PostgresQueue({ sql, schema: "qite_doc_queue", name: "emails" });
 * try {
 *   await queue.send({ body: "welcome alice@example.com" });
 *   const message = await queue.receive();
 *   assert.ok(message);
 *   assert.equal(new TextDecoder().decode(message.body), "welcome alice@example.com");
 *   assert.equal(await queue.receive(), undefined); // invisible while it is being worked on
 *   assert.equal(await queue.delete(message), true);
 * } finally {
 *   await queue.close();
 *   await sql.unsafe("drop schema qite_doc_queue cascade");
 *   await sql.end();
 * }
 * ```
 */
export class PostgresQueue implements QueueLike {
  #driver: PgDriver;
  #ops: PgOps;
  #wake: PgWake;
  #schema: string | undefined;
  #retryTimeout: number;
  #closed = false;
  #pool: Place;

  /**
   * Creates a queue. Nothing is sent to the server until the first operation.
   *
   * @param options The client, the name and the settings.
   * @throws {TypeError} If `sql` is not a client qite recognises, or `name` or `schema` is
   * missing or of the wrong type, or `name` holds U+0000.
   * @throws {RangeError} If `timeout` or `maxReceive` is not an integer ≥ 1, or `name` is over
   * 2048 bytes.
   */
  constructor(options: PostgresQueueOptions) {
    const action = "create queue";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
      );
    }
    const {
      sql,
      name,
      schema,
      timeout = DEFAULT_TIMEOUT_MS,
      maxReceive = DEFAULT_MAX_RECEIVE,
      maxBodySize = DEFAULT_MAX_BODY_SIZE,
      retryTimeout = DEFAULT_RETRY_TIMEOUT_MS,
      clock,
    } = options;
    checkName(action, "name", name);
    checkQueueName(action, name);
    checkPostgresName(action, name);
    checkSchema(action, schema);
    checkDuration(action, "timeout", timeout, 1);
    checkInteger(action, "maxReceive", maxReceive, 1, INT4_MAX);
    checkInteger(action, "maxBodySize", maxBodySize, 0, 1_000_000_000);
    checkInteger(action, "retryTimeout", retryTimeout, 0, 2 ** 31 - 1);
    if (clock !== undefined && typeof clock !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'clock' must be a function: current value is ${show(clock)}`,
      );
    }
    if (sql === undefined || sql === null) {
      throw new TypeError(
        `Cannot ${action} as 'sql' must be a postgres.js sql or a Bun.SQL client: current ` +
          `value is ${show(sql)}`,
      );
    }
    this.#driver = wrapClient(sql, action);
    this.#schema = schema;
    this.#retryTimeout = retryTimeout;
    this.#wake = wakeOf(this.#driver, schema);
    this.#wake.acquire();
    this.#ops = new PgOps({
      name,
      timeout,
      maxReceive,
      maxBodySize,
      clock: clock === undefined ? undefined : checkedClock("read the queue's clock", clock),
      table: tableName(schema),
    }, this.#wake);
    this.#pool = {
      run: (action, work) => this.#retrying(action, work),
      origin: this.#wake.origin,
    };
  }

  /** The queue's name. */
  get name(): string {
    return this.#ops.settings.name;
  }

  /** The PostgreSQL schema of its table, or `undefined` for the `search_path`. */
  get schema(): string | undefined {
    return this.#schema;
  }

  /** The visibility timeout, in milliseconds. */
  get timeout(): number {
    return this.#ops.settings.timeout;
  }

  /** How many times a message can be received before it is dead. */
  get maxReceive(): number {
    return this.#ops.settings.maxReceive;
  }

  /** The largest body `send` accepts, in bytes. */
  get maxBodySize(): number {
    return this.#ops.settings.maxBodySize;
  }

  /** The client underneath: `"postgres.js"` or `"Bun.sql"`. */
  get driver(): PostgresDriverName {
    return this.#driver.name;
  }

  /** The client as it was handed in. */
  get sql(): PostgresClient {
    return this.#driver.native;
  }

  /** Whether {@linkcode PostgresQueue.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message and returns its id. Waiters in this process wake at once, and in other
   * processes as soon as the notification reaches them.
   *
   * @param message The body, and optionally a delay (ms) and a priority.
   * @returns The new message's id.
   * @throws {TypeError} If the body is not a `Uint8Array` or a string.
   * @throws {RangeError} If `delay` is negative or not an integer, or `priority` is not an
   * integer that PostgreSQL's `integer` column holds (−2³¹ to 2³¹ − 1).
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  send(message: SendMessage): Promise<MessageId> {
    return send(this.#pool, this, message);
  }

  /**
   * Sends several messages in one statement and returns their ids in order: all are sent or,
   * if any fails, none. Every message is checked before anything is written.
   *
   * @param messages The messages.
   * @returns The ids, in the order of `messages`.
   * @throws {TypeError} If `messages` is not an array or an entry is malformed.
   * @throws {RangeError} If an entry's delay or priority is out of range.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]> {
    return sendBatch(this.#pool, this, messages);
  }

  /**
   * Receives the next message, or `undefined` when none is visible: the visible message with
   * the highest priority, the oldest among equals (for one consumer exactly; concurrent
   * consumers skip what the others have locked). Receiving hides it for the queue's timeout and
   * counts one receive, in one statement.
   *
   * @returns The message, or `undefined`.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  receive(): Promise<Message | undefined> {
    return receiveBatch(this.#pool, this, 1, "receive message").then((messages) => messages[0]);
  }

  /**
   * Receives up to `max` messages at once, in receive order, in one statement.
   *
   * @param max The most messages to receive, at least 1.
   * @returns The messages (none when none is visible).
   * @throws {RangeError} If `max` is not an integer ≥ 1.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  receiveBatch(max: number): Promise<Message[]> {
    return receiveBatch(this.#pool, this, max, "receive messages");
  }

  /**
   * Receives the next message, waiting until one arrives. It tries at once, then sleeps until a
   * send in this process wakes it, a notification from another process does, a delayed or
   * in-flight message becomes visible, or `interval` passes.
   *
   * @param options The abort signal and the polling interval.
   * @returns The message.
   * @throws {TypeError} If `signal` is not an `AbortSignal`.
   * @throws {RangeError} If `interval` is not a positive number.
   * @throws {QueueError} If the queue is closed (also while waiting) or PostgreSQL fails.
   * @throws The signal's reason, when it aborts.
   *
   * @example Waiting for a message, and giving up
   * ```ts
   * import postgres from "postgres";
   * import { PostgresQueue, setup } from "@qite/qite/postgres";
   * import assert from "node:assert/strict";
   *
   * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
   * await sql.unsafe("drop schema if exists qite_doc_wait cascade"); // left by a run that was cut short
   * await setup(sql, { schema: "qite_doc_wait" });
   * const queue = new PostgresQueue({ sql, schema: "qite_doc_wait", name: "tasks" });
   * try {
   *   setTimeout(() => queue.send({ body: "soon" }), 10);
   *   const message = await queue.receiveAndWait();
   *   assert.equal(new TextDecoder().decode(message.body), "soon");
   *   await assert.rejects(queue.receiveAndWait({ signal: AbortSignal.timeout(20) }), {
   *     name: "TimeoutError",
   *   });
   * } finally {
   *   await queue.close();
   *   await sql.unsafe("drop schema qite_doc_wait cascade");
   *   await sql.end();
   * }
   * ```
   */
  async receiveAndWait(options: ReceiveAndWaitOptions = {}): Promise<Message> {
    return (await this.#wait("receive message", 1, options))[0]!;
  }

  /**
   * Like {@linkcode PostgresQueue.receiveAndWait}, for up to `max` messages: resolves as soon as
   * at least one is there, with every visible message up to `max`.
   *
   * @param max The most messages to receive, at least 1.
   * @param options The abort signal and the polling interval.
   * @returns One to `max` messages.
   * @throws {RangeError} If `max` is not an integer ≥ 1, or `interval` is not positive.
   * @throws {QueueError} If the queue is closed (also while waiting) or PostgreSQL fails.
   * @throws The signal's reason, when it aborts.
   */
  receiveBatchAndWait(max: number, options: ReceiveAndWaitOptions = {}): Promise<Message[]> {
    return this.#wait("receive messages", max, options);
  }

  /**
   * Sets a message's visibility timeout to now + `delay` (the server's now). Given the received
   * message (its {@linkcode Receipt}), it only applies while that delivery still holds the
   * message; given a bare id, it applies to the message whoever holds it (goqite's behaviour).
   *
   * @param target The received message, or a message id.
   * @param delay Milliseconds from now.
   * @returns `true` if it applied; `false` if the message is gone, or, for a receipt, has been
   * received again since.
   * @throws {TypeError} If `target` is neither an id nor a received message.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  extend(target: MessageId | Receipt, delay: number): Promise<boolean> {
    return extend(this.#pool, this, target, delay);
  }

  /**
   * Extends several messages in one statement, each as {@linkcode PostgresQueue.extend} would.
   *
   * @param targets Received messages or ids.
   * @param delay Milliseconds from now.
   * @returns For each target, in order, whether it applied.
   * @throws {TypeError} If `targets` is not an array or an entry is neither an id nor a receipt.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]> {
    return extendBatch(this.#pool, this, targets, delay);
  }

  /**
   * Deletes a message. Given the received message (its {@linkcode Receipt}), it only applies
   * while that delivery still holds the message; given a bare id, it always applies.
   *
   * @param target The received message, or a message id.
   * @returns `true` if it deleted the message; `false` if the message is gone, or, for a
   * receipt, has been received again since.
   * @throws {TypeError} If `target` is neither an id nor a received message.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  delete(target: MessageId | Receipt): Promise<boolean> {
    return deleteOne(this.#pool, this, target);
  }

  /**
   * Deletes several messages in one statement, each as {@linkcode PostgresQueue.delete} would.
   *
   * @param targets Received messages or ids.
   * @returns For each target, in order, whether it was deleted.
   * @throws {TypeError} If `targets` is not an array or an entry is neither an id nor a receipt.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]> {
    return deleteBatch(this.#pool, this, targets);
  }

  /**
   * Deletes `targets` and receives up to `max` messages, in one statement: a consumer that
   * acknowledges finished messages and takes new ones needs one commit instead of two.
   *
   * @param targets Received messages or ids to delete (each as {@linkcode PostgresQueue.delete}).
   * @param max The most messages to receive, at least 1.
   * @returns Whether each target was deleted, and the messages received.
   * @throws {TypeError} If `targets` is not an array or an entry is neither an id nor a receipt.
   * @throws {RangeError} If `max` is not an integer ≥ 1.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  deleteAndReceive(
    targets: readonly (MessageId | Receipt)[],
    max: number,
  ): Promise<DeleteAndReceiveResult> {
    const action = "delete and receive messages";
    return call(this.#pool, this, action, () => {
      const parsed = parseList(action, "targets", targets, toTarget);
      checkInteger(action, "max", max, 1);
      return (runner) => this.#ops.deleteAndReceive(runner, parsed, max);
    });
  }

  /**
   * Hands a received message back without counting its receive: it becomes visible again after
   * `delay` (at once by default), behind the messages already waiting, with the receive count
   * it had before this delivery. Fenced: only while this delivery holds it.
   *
   * @param receipt The received message.
   * @param delay Milliseconds until it is visible again.
   * @returns `true` if it was handed back; `false` if this delivery no longer holds it.
   * @throws {TypeError} If `receipt` is not a received message.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  release(receipt: Receipt, delay = 0): Promise<boolean> {
    return release(this.#pool, this, receipt, delay);
  }

  /**
   * Hands several received messages back in one statement, each as
   * {@linkcode PostgresQueue.release} would.
   *
   * @param receipts The received messages.
   * @param delay Milliseconds until they are visible again.
   * @returns For each receipt, in order, whether it was handed back.
   * @throws {TypeError} If `receipts` is not an array of received messages.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  releaseBatch(receipts: readonly Receipt[], delay = 0): Promise<boolean[]> {
    const action = "release messages";
    return call(this.#pool, this, action, () => {
      const parsed = parseList(action, "receipts", receipts, toReceipt);
      checkDuration(action, "delay", delay);
      return (runner) => this.#ops.release(runner, parsed, delay, this.#pool.origin);
    });
  }

  /**
   * Makes a received message dead at once, as if its last receive had failed. It stays in the
   * table, listed by {@linkcode PostgresQueue.listDead}, until redriven or purged. Fenced: only
   * while this delivery holds it.
   *
   * @param receipt The received message.
   * @returns `true` if it is dead now; `false` if this delivery no longer holds it.
   * @throws {TypeError} If `receipt` is not a received message.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  bury(receipt: Receipt): Promise<boolean> {
    return bury(this.#pool, this, receipt);
  }

  /**
   * Returns up to `limit` visible messages in the order they would be received (or delayed or
   * in-flight ones, soonest visible first), without receiving them.
   *
   * @param options The limit and which messages.
   * @returns The messages, with their created and timeout times.
   * @throws {RangeError} If `limit` is not an integer ≥ 1.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  peek(options: PeekOptions = {}): Promise<MessageInfo[]> {
    const action = "peek messages";
    return call(this.#pool, this, action, () => {
      const { limit, state, bodyBytes } = checkPeekOptions(action, options);
      return (runner) => this.#ops.peek(runner, limit, state, bodyBytes);
    });
  }

  /**
   * Returns the queue's exact counts of visible, in-flight, delayed and dead messages, and the
   * age of the oldest visible message (by the server's clock).
   *
   * @returns The counts.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  stats(): Promise<QueueStats> {
    return call(this.#pool, this, "read stats", () => (runner) => this.#ops.stats(runner));
  }

  /**
   * Lists dead messages (received `maxReceive` times, timeout passed), oldest first, a page at a
   * time.
   *
   * @param options The page size and the cursor of the previous page.
   * @returns The page, and the cursor of the next page (`undefined` on the last).
   * @throws {RangeError} If `limit` is not an integer ≥ 1.
   * @throws {TypeError} If `cursor` is not a cursor from `listDead`.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  listDead(options: ListDeadOptions = {}): Promise<DeadPage> {
    const action = "list dead messages";
    return call(this.#pool, this, action, () => {
      checkObject(action, "options", options);
      const { limit = 100, cursor, bodyBytes } = options;
      checkInteger(action, "limit", limit, 1, INT4_MAX);
      checkBodyBytes(action, bodyBytes);
      if (cursor !== undefined && (typeof cursor !== "string" || !CURSOR.test(cursor))) {
        throw new TypeError(
          `Cannot ${action} as 'cursor' must be a cursor from listDead(): current value is ${
            show(cursor)
          }`,
        );
      }
      return (runner) => this.#ops.listDead(runner, limit, cursor, bodyBytes);
    });
  }

  /**
   * Counts the dead messages.
   *
   * @returns How many messages are dead.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  countDead(): Promise<number> {
    return call(
      this.#pool,
      this,
      "count dead messages",
      () => (runner) => this.#ops.countDead(runner),
    );
  }

  /**
   * Makes dead messages receivable again: their receive count goes back to 0 and they become
   * visible at once, behind the messages already waiting. Without an argument, every dead
   * message of the queue; otherwise the given ids (ids of messages that are not dead are
   * skipped).
   *
   * @param ids One id or a list; omit for all.
   * @returns How many messages were redriven.
   * @throws {TypeError} If `ids` is not an id or an array of ids.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  redrive(ids?: MessageId | readonly MessageId[]): Promise<number> {
    const action = "redrive messages";
    return call(this.#pool, this, action, () => {
      const list = ids === undefined || Array.isArray(ids) ? ids : [ids];
      if (list !== undefined) {
        parseList(action, "ids", list, (entry, id) => {
          checkName(entry, "id", id);
          return id;
        });
      }
      return (runner) =>
        this.#ops.redrive(runner, list as readonly MessageId[] | undefined, this.#pool.origin);
    });
  }

  /**
   * Deletes every dead message of the queue.
   *
   * @returns How many were deleted.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  purgeDead(): Promise<number> {
    return call(
      this.#pool,
      this,
      "purge dead messages",
      () => (runner) => this.#ops.purgeDead(runner),
    );
  }

  /**
   * Deletes every message of the queue, in any state. Other queues in the table are untouched.
   *
   * @returns How many were deleted.
   * @throws {QueueError} If the queue is closed or PostgreSQL fails.
   */
  purge(): Promise<number> {
    return call(this.#pool, this, "purge queue", () => (runner) => this.#ops.purge(runner));
  }

  /**
   * The queue's operations inside your own transaction, so that messages commit or roll back
   * together with your writes: `tx` is what `sql.begin(tx => …)` hands you (postgres.js or
   * Bun.sql). A send made through it wakes waiters (here and in other processes) once the
   * transaction commits, and never if it rolls back. Give it to `createJob` to create a job in
   * the transaction. Use it only inside the function `sql.begin` runs: after the transaction
   * has ended, postgres.js runs its statements outside any transaction (Bun.sql refuses them).
   *
   * @param tx The transaction.
   * @returns The operations, bound to `tx`.
   * @throws {TypeError} If `tx` is not a transaction (or reserved connection) of a client qite
   * knows; the client itself is not one.
   *
   * @example An order and its email, atomically
   * ```ts
   * import postgres from "postgres";
   * import { PostgresQueue, setup } from "@qite/qite/postgres";
   * import assert from "node:assert/strict";
   *
   * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
   * await sql.unsafe("drop schema if exists qite_doc_tx cascade"); // left by a run that was cut short
   * await setup(sql, { schema: "qite_doc_tx" });
   * await sql.unsafe("create table qite_doc_tx.orders (id int primary key)");
   * const queue = new PostgresQueue({ sql, schema: "qite_doc_tx", name: "emails" });
   * try {
   *   await sql.begin(async (tx) => {
   *     await tx.unsafe("insert into qite_doc_tx.orders (id) values (1)");
   *     await queue.with(tx).send({ body: "order 1 confirmed" });
   *   });
   *   await assert.rejects(sql.begin(async (tx) => {
   *     await tx.unsafe("insert into qite_doc_tx.orders (id) values (2)");
   *     await queue.with(tx).send({ body: "order 2 confirmed" });
   *     throw new Error("payment declined");
   *   }));
   *   assert.ok(await queue.receive());
   *   assert.equal(await queue.receive(), undefined);
   * } finally {
   *   await queue.close();
   *   await sql.unsafe("drop schema qite_doc_tx cascade");
   *   await sql.end();
   * }
   * ```
   */
  with(tx: unknown): PostgresQueueTransaction {
    const runner = wrapTransaction(tx, "use transaction");
    const place: Place = {
      run: (action, work) => {
        this.#assertOpen(action);
        return work(runner).catch((error) => {
          throw toQueueError(error, action);
        });
      },
      origin: FOREIGN_ORIGIN,
    };
    return {
      queue: this,
      send: (message) => send(place, this, message),
      sendBatch: (messages) => sendBatch(place, this, messages),
      receive: () =>
        receiveBatch(place, this, 1, "receive message").then((messages) => messages[0]),
      receiveBatch: (max) => receiveBatch(place, this, max, "receive messages"),
      extend: (target, delay) => extend(place, this, target, delay),
      extendBatch: (targets, delay) => extendBatch(place, this, targets, delay),
      delete: (target) => deleteOne(place, this, target),
      deleteBatch: (targets) => deleteBatch(place, this, targets),
      release: (receipt, delay = 0) => release(place, this, receipt, delay),
      bury: (receipt) => bury(place, this, receipt),
    };
  }

  /**
   * Closes the queue: later calls fail with `CLOSED`, and pending `receiveAndWait` calls reject
   * with it. The client stays open (it is yours): end it after closing its queues.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#wake.room.wakeOwner(this);
      this.#wake.release();
    }
    return Promise.resolve();
  }

  /** Closes the queue, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Internals for the module's operation functions. */
  static {
    opsOf = (queue) => queue.#ops;
    assertOpenOf = (queue, action) => queue.#assertOpen(action);
  }

  #assertOpen(action: string): void {
    if (this.#closed) throw new QueueError("CLOSED", `Cannot ${action} as the queue is closed`);
  }

  /**
   * Runs an operation on the pool, retrying it (with a growing, jittered pause) while the
   * connection was lost or it met a serialization failure, for up to `retryTimeout` ms.
   */
  async #retrying<T>(action: string, work: (runner: PgRunner) => Promise<T>): Promise<T> {
    const started = performance.now();
    let pause = RETRY_BASE_MS;
    for (let attempt = 1;; attempt++) {
      this.#assertOpen(action);
      try {
        return await (await readCommittedByDefault(this.#driver)
          ? work(this.#driver)
          : this.#driver.transaction(work));
      } catch (error) {
        const failure = classify(error);
        if (failure === "final") throw toQueueError(error, action);
        if (mayBeEnded(error) && attempt >= 3) {
          throw new QueueError(
            "CLOSED",
            `Cannot ${action} as the PostgreSQL client is closed: ${(error as Error).message}`,
            { cause: error },
          );
        }
        const wait = pause / 2 + Math.random() * pause / 2;
        if (performance.now() - started + wait > this.#retryTimeout) {
          throw toQueueError(error, action);
        }
        retried[failure]++;
        await sleep(wait);
        pause = Math.min(pause * 2, RETRY_CAP_MS);
      }
    }
  }

  /** Receives up to `max` messages, waiting for the first; see receiveAndWait. */
  #wait(action: string, max: number, options: ReceiveAndWaitOptions): Promise<Message[]> {
    try {
      checkInteger(action, "max", max, 1);
      checkObject(action, "options", options);
      const { signal, interval = DEFAULT_INTERVAL_MS } = options;
      checkSignal(action, signal);
      checkPositive(action, "interval", interval, 2 ** 31 - 1);
      signal?.throwIfAborted();
      this.#assertOpen(action);
      return this.#wake.room.wait(this.name, this, max, interval, signal, {
        attempt: () => this.#retrying(action, (runner) => this.#ops.receive(runner, max)),
        nextDue: () => this.#retrying(action, (runner) => this.#ops.nextDue(runner)),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Checks the arguments (`prepare` throws at once, as a rejection), then runs the work it
 * returns at `place`.
 */
function call<T>(
  place: Place,
  queue: PostgresQueue,
  action: string,
  prepare: () => (runner: PgRunner) => Promise<T>,
): Promise<T> {
  let work: (runner: PgRunner) => Promise<T>;
  try {
    assertOpenOf(queue, action);
    work = prepare();
  } catch (error) {
    return Promise.reject(error);
  }
  return place.run(action, work);
}

function parseOne(queue: PostgresQueue, action: string, message: unknown): Outgoing {
  return checkIntegerPriority(action, parseMessage(action, message, queue.maxBodySize));
}

function send(place: Place, queue: PostgresQueue, message: SendMessage): Promise<MessageId> {
  const action = "send message";
  return call(place, queue, action, () => {
    const parsed = parseOne(queue, action, message);
    const ids = opsOf(queue).newIds(1);
    return async (runner) => {
      await opsOf(queue).send(runner, [parsed], ids, place.origin);
      return ids[0]!;
    };
  });
}

function sendBatch(
  place: Place,
  queue: PostgresQueue,
  messages: readonly SendMessage[],
): Promise<MessageId[]> {
  const action = "send messages";
  return call(place, queue, action, () => {
    const parsed = parseList(
      action,
      "messages",
      messages,
      (entry, message) => parseOne(queue, entry, message),
    );
    const ids = opsOf(queue).newIds(parsed.length);
    return async (runner) => {
      await opsOf(queue).send(runner, parsed, ids, place.origin);
      return ids;
    };
  });
}

function receiveBatch(
  place: Place,
  queue: PostgresQueue,
  max: number,
  action: string,
): Promise<Message[]> {
  return call(place, queue, action, () => {
    checkInteger(action, "max", max, 1);
    return (runner) => opsOf(queue).receive(runner, max);
  });
}

function extend(
  place: Place,
  queue: PostgresQueue,
  target: MessageId | Receipt,
  delay: number,
): Promise<boolean> {
  const action = "extend message";
  return call(place, queue, action, () => {
    const parsed = toTarget(action, target);
    checkDuration(action, "delay", delay);
    return async (runner) => (await opsOf(queue).extend(runner, [parsed], delay))[0]!;
  });
}

function extendBatch(
  place: Place,
  queue: PostgresQueue,
  targets: readonly (MessageId | Receipt)[],
  delay: number,
): Promise<boolean[]> {
  const action = "extend messages";
  return call(place, queue, action, () => {
    const parsed = parseList(action, "targets", targets, toTarget);
    checkDuration(action, "delay", delay);
    return (runner) => opsOf(queue).extend(runner, parsed, delay);
  });
}

function deleteOne(
  place: Place,
  queue: PostgresQueue,
  target: MessageId | Receipt,
): Promise<boolean> {
  const action = "delete message";
  return call(place, queue, action, () => {
    const parsed = toTarget(action, target);
    return async (runner) => (await opsOf(queue).delete(runner, [parsed]))[0]!;
  });
}

function deleteBatch(
  place: Place,
  queue: PostgresQueue,
  targets: readonly (MessageId | Receipt)[],
): Promise<boolean[]> {
  const action = "delete messages";
  return call(place, queue, action, () => {
    const parsed = parseList(action, "targets", targets, toTarget);
    return (runner) => opsOf(queue).delete(runner, parsed);
  });
}

function release(
  place: Place,
  queue: PostgresQueue,
  receipt: Receipt,
  delay: number,
): Promise<boolean> {
  const action = "release message";
  return call(place, queue, action, () => {
    const parsed = toReceipt(action, receipt);
    checkDuration(action, "delay", delay);
    return async (runner) =>
      (await opsOf(queue).release(runner, [parsed], delay, place.origin))[0]!;
  });
}

function bury(place: Place, queue: PostgresQueue, receipt: Receipt): Promise<boolean> {
  const action = "bury message";
  return call(place, queue, action, () => {
    const parsed = toReceipt(action, receipt);
    return (runner) => opsOf(queue).bury(runner, parsed);
  });
}
