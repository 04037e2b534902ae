/**
 * The Queue: goqite's named queue on a SQLite table.
 *
 * @module
 */

import { Database, internals, open, type SqliteHandle, type WriteMode } from "./database.ts";
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
import { setup } from "./schema.ts";
import { toQueueError } from "../runtime/_errors.ts";
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
import { QueueOps } from "./_ops.ts";
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

export type { ListDeadOptions, PeekOptions, ReceiveAndWaitOptions };

/** Options for {@linkcode Queue}. */
export interface QueueOptions {
  /**
   * The database: a {@linkcode Database} from `open()`, a driver handle you opened yourself (see
   * {@linkcode Database.from}), or a file path. Given a path, the queue opens the file, creates
   * the table if needed, and closes the file on `close()`.
   */
  db: Database | SqliteHandle | string;
  /** The queue's name. Many queues share one table; names keep them apart. */
  name: string;
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
   * `RangeError` before anything is written. (SQLite's own limit is about 1 GB.)
   *
   * @default {67108864}
   */
  maxBodySize?: number;
  /**
   * The clock, in milliseconds since the epoch; replace it to control time in tests.
   *
   * @default {Date.now}
   */
  clock?: () => number;
}

/**
 * A queue's operations inside a transaction, synchronous, for {@linkcode Queue.transaction}.
 * Everything done through it commits or rolls back with the transaction.
 */
export interface QueueTransaction {
  /** The queue. */
  readonly queue: Queue;
  /** Like {@linkcode Queue.send}, inside the transaction. */
  send(message: SendMessage): MessageId;
  /** Like {@linkcode Queue.sendBatch}, inside the transaction. */
  sendBatch(messages: readonly SendMessage[]): MessageId[];
  /** Like {@linkcode Queue.receive}, inside the transaction. */
  receive(): Message | undefined;
  /** Like {@linkcode Queue.receiveBatch}, inside the transaction. */
  receiveBatch(max: number): Message[];
  /** Like {@linkcode Queue.extend}, inside the transaction. */
  extend(target: MessageId | Receipt, delay: number): boolean;
  /** Like {@linkcode Queue.extendBatch}, inside the transaction. */
  extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): boolean[];
  /** Like {@linkcode Queue.delete}, inside the transaction. */
  delete(target: MessageId | Receipt): boolean;
  /** Like {@linkcode Queue.deleteBatch}, inside the transaction. */
  deleteBatch(targets: readonly (MessageId | Receipt)[]): boolean[];
}

/**
 * Checks a `db` option: a database, a driver handle or a non-empty path.
 *
 * @throws {TypeError} If it is missing or empty.
 */
export function checkDatabase(action: string, db: unknown): void {
  if (db === undefined || db === null || db === "") {
    throw new TypeError(
      `Cannot ${action} as 'db' must be a database, a SQLite handle or a path: current value is ${
        show(db)
      }`,
    );
  }
}

/**
 * The database a checked `db` option names: a path is opened and set up (and closed again if
 * setting up fails); the caller owns it. Anything else is wrapped with `Database.from`.
 *
 * @throws {TypeError} If a handle is not a connection qite recognises.
 * @throws {QueueError} If a path cannot be opened or set up.
 */
export function resolveDatabase(db: Database | SqliteHandle | string): Database {
  if (typeof db !== "string") return Database.from(db);
  const database = open(db);
  try {
    setup(database);
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_RECEIVE = 3;
const DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024;
const DEFAULT_INTERVAL_MS = 100;
const CURSOR = /^\S+ \S+$/;

/** Whether `value` has the shape of a cursor that {@linkcode Queue.listDead} returns. */
export function isDeadCursor(value: string): boolean {
  return CURSOR.test(value);
}

/**
 * A named queue of messages in the `goqite` table, with goqite's semantics: a received message
 * is invisible for the queue's timeout and is never handed out twice inside it; after
 * `maxReceive` receives it is dead. Every operation is one SQLite statement (or one
 * transaction), so any number of queues, connections and processes can share the file.
 *
 * @example Sending, receiving and deleting
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const queue = new Queue({ db, name: "emails", timeout: 30_000 });
 *
 * await queue.send({ body: "welcome alice@example.com" });
 * const message = await queue.receive();
 * assert.ok(message);
 * assert.equal(new TextDecoder().decode(message.body), "welcome alice@example.com");
 * assert.equal(await queue.receive(), undefined); // invisible while it is being worked on
 * assert.equal(await queue.delete(message), true);
 * ```
 */
export class Queue implements QueueLike {
  #ops: QueueOps;
  #owned: boolean;
  #closed = false;

  /**
   * Creates a queue.
   *
   * @param options The database, the name and the settings.
   * @throws {TypeError} If `db` or `name` is missing or of the wrong type.
   * @throws {RangeError} If `timeout` or `maxReceive` is not an integer ≥ 1 (goqite reads a
   * timeout of 0 as its default; qite refuses it, since a message would be handed out again at
   * once).
   * @throws {QueueError} If `db` is a path that cannot be opened.
   */
  constructor(options: QueueOptions) {
    const action = "create queue";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
      );
    }
    const {
      db,
      name,
      timeout = DEFAULT_TIMEOUT_MS,
      maxReceive = DEFAULT_MAX_RECEIVE,
      maxBodySize = DEFAULT_MAX_BODY_SIZE,
    } = options;
    const clock = options.clock ?? Date.now;
    checkDatabase(action, db);
    checkName(action, "name", name);
    checkQueueName(action, name);
    checkDuration(action, "timeout", timeout, 1);
    checkInteger(action, "maxReceive", maxReceive, 1);
    checkInteger(action, "maxBodySize", maxBodySize, 0, 1_000_000_000);
    if (typeof clock !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'clock' must be a function: current value is ${show(clock)}`,
      );
    }
    const database = resolveDatabase(db);
    this.#owned = typeof db === "string";
    this.#ops = new QueueOps(database, {
      name,
      timeout,
      maxReceive,
      maxBodySize,
      clock: clock === Date.now ? clock : checkedClock("read the queue's clock", clock),
    });
  }

  /** The queue's name. */
  get name(): string {
    return this.#ops.settings.name;
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

  /** The database the queue uses. */
  get db(): Database {
    return this.#ops.db;
  }

  /** Whether {@linkcode Queue.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message and returns its id. Waiters in this process wake at once.
   *
   * @param message The body, and optionally a delay (ms) and a priority.
   * @returns The new message's id.
   * @throws {TypeError} If the body is not a `Uint8Array` or a string.
   * @throws {RangeError} If `delay` is negative, not an integer or above about 292 years, or
   * `priority` is neither a safe integer nor a bigint within 64 bits.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Sending with a delay and a priority
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "reports" });
   * const id = await queue.send({ body: new Uint8Array([1, 2, 3]), delay: 60_000, priority: 5 });
   * assert.match(id, /^m_[0-9a-f]{32}$/);
   * assert.equal(await queue.receive(), undefined); // delayed for a minute
   * ```
   */
  send(message: SendMessage): Promise<MessageId> {
    return this.#run("send message", "statement", () => {
      const parsed = this.#parseOne(message);
      return () => this.#ops.send([parsed])[0]!;
    });
  }

  /**
   * Sends several messages in one transaction and returns their ids in order. All are sent or,
   * if any fails, none. Every message is checked before anything is written. An empty list
   * does nothing.
   *
   * @param messages The messages.
   * @returns The ids, in the order of `messages`.
   * @throws {TypeError} If `messages` is not an array or an entry is malformed (the message
   * names the entry).
   * @throws {RangeError} If an entry's delay or priority is out of range.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Sending a batch
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "thumbnails" });
   * const ids = await queue.sendBatch([{ body: "a.png" }, { body: "b.png", priority: 1 }]);
   * assert.equal(ids.length, 2);
   * assert.equal((await queue.receive())?.id, ids[1]);
   * ```
   */
  sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]> {
    return this.#run("send messages", "transaction", () => {
      const parsed = this.#parseMany(messages);
      return () => this.#ops.send(parsed);
    });
  }

  /**
   * Receives the next message, or `undefined` when none is visible. The next message is the
   * visible one with the highest priority, the oldest among equals; receiving it hides it for
   * the queue's timeout and counts one receive. One atomic statement: the same message is never
   * handed out twice inside its timeout, whatever the number of consumers.
   *
   * @returns The message, or `undefined`.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Receiving from an empty queue
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "empty" });
   * assert.equal(await queue.receive(), undefined);
   * ```
   */
  receive(): Promise<Message | undefined> {
    return this.#run("receive message", "transaction", () => () => this.#ops.receive(1)[0]);
  }

  /**
   * Receives up to `max` messages at once, in receive order, in one statement: the same rule as
   * {@linkcode Queue.receive}, each message once. An empty array when none is visible.
   *
   * @param max The most messages to receive, at least 1.
   * @returns The messages.
   * @throws {RangeError} If `max` is not an integer ≥ 1.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Receiving a batch
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "events" });
   * await queue.sendBatch([{ body: "1" }, { body: "2" }, { body: "3" }]);
   * const messages = await queue.receiveBatch(10);
   * assert.deepEqual(messages.map((m) => new TextDecoder().decode(m.body)), ["1", "2", "3"]);
   * ```
   */
  receiveBatch(max: number): Promise<Message[]> {
    return this.#run("receive messages", "transaction", () => {
      checkInteger("receive messages", "max", max, 1);
      return () => this.#ops.receive(max);
    });
  }

  /**
   * Receives the next message, waiting until one arrives. It tries at once, then sleeps until a
   * send in this process wakes it, another process commits to the file, a delayed or in-flight
   * message becomes visible, or `interval` passes. No timer or listener is left behind.
   *
   * @param options The abort signal and the polling interval.
   * @returns The message.
   * @throws {TypeError} If `signal` is not an `AbortSignal`.
   * @throws {RangeError} If `interval` is not a positive number.
   * @throws {QueueError} If the queue is closed (also while waiting) or SQLite fails.
   * @throws The signal's reason, when it aborts.
   *
   * @example Waiting for a message, and giving up
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "tasks" });
   *
   * setTimeout(() => queue.send({ body: "soon" }), 10);
   * const message = await queue.receiveAndWait();
   * assert.equal(new TextDecoder().decode(message.body), "soon");
   *
   * await assert.rejects(queue.receiveAndWait({ signal: AbortSignal.timeout(20) }), {
   *   name: "TimeoutError",
   * });
   * ```
   */
  async receiveAndWait(options: ReceiveAndWaitOptions = {}): Promise<Message> {
    return (await this.#wait("receive message", 1, options))[0]!;
  }

  /**
   * Like {@linkcode Queue.receiveAndWait}, for up to `max` messages: resolves as soon as at
   * least one is there, with every visible message up to `max`.
   *
   * @param max The most messages to receive, at least 1.
   * @param options The abort signal and the polling interval.
   * @returns One to `max` messages.
   * @throws {RangeError} If `max` is not an integer ≥ 1, or `interval` is not positive.
   * @throws {QueueError} If the queue is closed (also while waiting) or SQLite fails.
   * @throws The signal's reason, when it aborts.
   *
   * @example Waiting for a batch
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "logs" });
   * setTimeout(() => queue.sendBatch([{ body: "a" }, { body: "b" }]), 10);
   * const messages = await queue.receiveBatchAndWait(100, { signal: AbortSignal.timeout(5000) });
   * assert.equal(messages.length, 2);
   * ```
   */
  receiveBatchAndWait(max: number, options: ReceiveAndWaitOptions = {}): Promise<Message[]> {
    return this.#wait("receive messages", max, options);
  }

  /**
   * Sets a message's visibility timeout to now + `delay`. Given the received message (its
   * {@linkcode Receipt}), it only applies while that delivery still holds the message; given a
   * bare id, it applies to the message whoever holds it (goqite's behaviour).
   *
   * @param target The received message, or a message id.
   * @param delay Milliseconds from now.
   * @returns `true` if it applied; `false` if the message is gone, or, for a receipt, has been
   * received again since (its timeout passed and another consumer got it).
   * @throws {TypeError} If `target` is neither an id nor a received message.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Keeping a message while working on it
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "videos", timeout: 1000 });
   * await queue.send({ body: "encode 4k.mov" });
   * const message = await queue.receive();
   * assert.ok(message);
   * assert.equal(await queue.extend(message, 60_000), true);
   * ```
   */
  extend(target: MessageId | Receipt, delay: number): Promise<boolean> {
    return this.#run("extend message", "transaction", () => {
      const parsed = toTarget("extend message", target);
      checkDuration("extend message", "delay", delay);
      return () => this.#ops.extend([parsed], delay)[0]!;
    });
  }

  /**
   * Extends several messages in one transaction, each as {@linkcode Queue.extend} would.
   *
   * @param targets Received messages or ids.
   * @param delay Milliseconds from now.
   * @returns For each target, in order, whether it applied.
   * @throws {TypeError} If `targets` is not an array or an entry is neither an id nor a receipt.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Extending a batch
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "crawl" });
   * await queue.sendBatch([{ body: "a" }, { body: "b" }]);
   * const messages = await queue.receiveBatch(2);
   * assert.deepEqual(await queue.extendBatch([...messages, "m_gone"], 30_000), [true, true, false]);
   * ```
   */
  extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]> {
    return this.#run("extend messages", "transaction", () => {
      const parsed = parseList("extend messages", "targets", targets, toTarget);
      checkDuration("extend messages", "delay", delay);
      return () => this.#ops.extend(parsed, delay);
    });
  }

  /**
   * Deletes a message. Given the received message (its {@linkcode Receipt}), it only applies
   * while that delivery still holds the message; given a bare id, it always applies.
   *
   * @param target The received message, or a message id.
   * @returns `true` if it deleted the message; `false` if the message is gone, or, for a
   * receipt, has been received again since.
   * @throws {TypeError} If `target` is neither an id nor a received message.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Deleting by id
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "audit" });
   * const id = await queue.send({ body: "x" });
   * assert.equal(await queue.delete(id), true);
   * assert.equal(await queue.delete(id), false);
   * ```
   */
  delete(target: MessageId | Receipt): Promise<boolean> {
    return this.#run("delete message", "statement", () => {
      const parsed = toTarget("delete message", target);
      return () => this.#ops.delete([parsed])[0]!;
    });
  }

  /**
   * Deletes several messages in one transaction, each as {@linkcode Queue.delete} would.
   *
   * @param targets Received messages or ids.
   * @returns For each target, in order, whether it was deleted.
   * @throws {TypeError} If `targets` is not an array or an entry is neither an id nor a receipt.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Acknowledging a batch
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "mail" });
   * await queue.sendBatch([{ body: "a" }, { body: "b" }]);
   * const messages = await queue.receiveBatch(10);
   * assert.deepEqual(await queue.deleteBatch(messages), [true, true]);
   * ```
   */
  deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]> {
    return this.#run("delete messages", "transaction", () => {
      const parsed = parseList("delete messages", "targets", targets, toTarget);
      return () => this.#ops.delete(parsed);
    });
  }

  /**
   * Deletes `targets` and receives up to `max` messages, in one transaction: a consumer that
   * acknowledges finished messages and takes new ones needs one commit instead of two.
   *
   * @param targets Received messages or ids to delete (each as {@linkcode Queue.delete}).
   * @param max The most messages to receive, at least 1.
   * @returns Whether each target was deleted, and the messages received.
   * @throws {TypeError} If `targets` is not an array or an entry is neither an id nor a receipt.
   * @throws {RangeError} If `max` is not an integer ≥ 1.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Acknowledging and taking the next batch
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "work" });
   * await queue.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
   * const first = await queue.receiveBatch(2);
   * const { deleted, messages } = await queue.deleteAndReceive(first, 10);
   * assert.deepEqual(deleted, [true, true]);
   * assert.equal(messages.length, 1);
   * ```
   */
  deleteAndReceive(
    targets: readonly (MessageId | Receipt)[],
    max: number,
  ): Promise<DeleteAndReceiveResult> {
    const action = "delete and receive messages";
    return this.#run(action, "transaction", () => {
      const parsed = parseList(action, "targets", targets, toTarget);
      checkInteger(action, "max", max, 1);
      return () => ({ deleted: this.#ops.delete(parsed), messages: this.#ops.receive(max) });
    });
  }

  /**
   * Hands a received message back without counting its receive: it becomes visible again after
   * `delay` (at once by default), behind the messages already waiting, with the receive count
   * it had before this delivery. For a consumer that took a message it cannot handle now (it is
   * shutting down, or the work is not for it). Fenced: only while this delivery holds it.
   *
   * @param receipt The received message.
   * @param delay Milliseconds until it is visible again.
   * @returns `true` if it was handed back; `false` if this delivery no longer holds it.
   * @throws {TypeError} If `receipt` is not a received message.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Handing a message back
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q" });
   * await queue.send({ body: "not now" });
   * const message = (await queue.receive())!;
   * assert.equal(await queue.release(message), true);
   * assert.equal((await queue.receive())?.received, 1); // the first receive did not count
   * ```
   */
  release(receipt: Receipt, delay = 0): Promise<boolean> {
    return this.#run("release message", "statement", () => {
      const parsed = toReceipt("release message", receipt);
      checkDuration("release message", "delay", delay);
      return () => this.#ops.release([parsed], delay)[0]!;
    });
  }

  /**
   * Hands several received messages back in one transaction, each as
   * {@linkcode Queue.release} would.
   *
   * @param receipts The received messages.
   * @param delay Milliseconds until they are visible again.
   * @returns For each receipt, in order, whether it was handed back.
   * @throws {TypeError} If `receipts` is not an array of received messages.
   * @throws {RangeError} If `delay` is negative or not an integer.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Handing back what was not started
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q" });
   * await queue.sendBatch([{ body: "a" }, { body: "b" }]);
   * assert.deepEqual(await queue.releaseBatch(await queue.receiveBatch(2)), [true, true]);
   * ```
   */
  releaseBatch(receipts: readonly Receipt[], delay = 0): Promise<boolean[]> {
    const action = "release messages";
    return this.#run(action, "transaction", () => {
      const parsed = parseList(action, "receipts", receipts, toReceipt);
      checkDuration(action, "delay", delay);
      return () => this.#ops.release(parsed, delay);
    });
  }

  /**
   * Makes a received message dead at once, as if its last receive had failed: for a message
   * that can never succeed (it cannot be decoded, say). It stays in the table, listed by
   * {@linkcode Queue.listDead}, until redriven or purged. Fenced: only while this delivery
   * holds it. It resolves once the message counts as dead: for a message created (or released
   * or redriven) in this very millisecond, from the next one.
   *
   * @param receipt The received message.
   * @returns `true` if it is dead now; `false` if this delivery no longer holds it.
   * @throws {TypeError} If `receipt` is not a received message.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Burying a poison message
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q" });
   * await queue.send({ body: "\u0000garbage" });
   * assert.equal(await queue.bury((await queue.receive())!), true);
   * assert.equal(await queue.countDead(), 1);
   * ```
   */
  bury(receipt: Receipt): Promise<boolean> {
    let parsed: Receipt | undefined;
    return this.#run("bury message", "statement", () => {
      parsed = toReceipt("bury message", receipt);
      return () => this.#ops.bury([parsed!])[0]!;
    }).then(async (buried) => {
      if (buried) await this.#ops.untilDead(parsed!);
      return buried;
    });
  }

  /**
   * Returns up to `limit` visible messages in the order they would be received, without
   * receiving them: nothing changes.
   *
   * @param options The limit.
   * @returns The messages, with their created and timeout times.
   * @throws {RangeError} If `limit` is not an integer ≥ 1.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Looking without touching
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "inbox" });
   * await queue.send({ body: "hi" });
   * assert.equal((await queue.peek()).length, 1);
   * assert.equal((await queue.receive())?.received, 1); // peek did not receive it
   * ```
   */
  peek(options: PeekOptions = {}): Promise<MessageInfo[]> {
    const action = "peek messages";
    return this.#run(action, "read", () => {
      const { limit, state, bodyBytes } = checkPeekOptions(action, options);
      return () => this.#ops.peek(limit, state, bodyBytes);
    });
  }

  /**
   * Returns a queue's exact counts of visible, in-flight, delayed and dead messages, and the age
   * of the oldest visible message. It reads every message of the queue, so it costs time in
   * proportion to the queue's size.
   *
   * @returns The counts.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Counting
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "stats" });
   * await queue.sendBatch([{ body: "now" }, { body: "later", delay: 60_000 }]);
   * await queue.send({ body: "taken" });
   * await queue.receive();
   * const stats = await queue.stats();
   * assert.equal(stats.total, 3);
   * assert.equal(stats.visible, 1);
   * assert.equal(stats.inFlight, 1);
   * assert.equal(stats.delayed, 1);
   * assert.equal(stats.dead, 0);
   * ```
   */
  stats(): Promise<QueueStats> {
    return this.#run("read stats", "read", () => () => this.#ops.stats());
  }

  /**
   * Lists dead messages (received `maxReceive` times, timeout passed), oldest first, a page at a
   * time. They stay in the `goqite` table; there is no second table.
   *
   * @param options The page size and the cursor of the previous page.
   * @returns The page, and the cursor of the next page (`undefined` on the last).
   * @throws {RangeError} If `limit` is not an integer ≥ 1.
   * @throws {TypeError} If `cursor` is not a string.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Paging through dead messages
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * let now = Date.parse("2026-01-01T00:00:00Z");
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "flaky", maxReceive: 1, timeout: 10, clock: () => now });
   * await queue.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
   * await queue.receiveBatch(3);
   * now += 10;
   * const first = await queue.listDead({ limit: 2 });
   * assert.equal(first.messages.length, 2);
   * const second = await queue.listDead({ limit: 2, cursor: first.cursor });
   * assert.equal(second.messages.length, 1);
   * assert.equal(second.cursor, undefined);
   * ```
   */
  listDead(options: ListDeadOptions = {}): Promise<DeadPage> {
    const action = "list dead messages";
    return this.#run(action, "read", () => {
      checkObject(action, "options", options);
      const { limit = 100, cursor, bodyBytes } = options;
      checkInteger(action, "limit", limit, 1);
      checkBodyBytes(action, bodyBytes);
      if (cursor !== undefined && (typeof cursor !== "string" || !CURSOR.test(cursor))) {
        throw new TypeError(
          `Cannot ${action} as 'cursor' must be a cursor from listDead(): current value is ${
            show(cursor)
          }`,
        );
      }
      return () => this.#ops.listDead(limit, cursor, bodyBytes);
    });
  }

  /**
   * Counts the dead messages.
   *
   * @returns How many messages are dead.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Counting dead messages
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q" });
   * assert.equal(await queue.countDead(), 0);
   * ```
   */
  countDead(): Promise<number> {
    return this.#run("count dead messages", "read", () => () => this.#ops.countDead());
  }

  /**
   * Makes dead messages receivable again: their receive count goes back to 0 and they become
   * visible at once, behind the messages already waiting. Without an argument, every dead
   * message of the queue; otherwise the given ids (ids of messages that are not dead are skipped).
   *
   * @param ids One id or a list; omit for all.
   * @returns How many messages were redriven.
   * @throws {TypeError} If `ids` is not an id or an array of ids.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Redriving after a fix
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * let now = Date.parse("2026-01-01T00:00:00Z");
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q", maxReceive: 1, timeout: 10, clock: () => now });
   * await queue.send({ body: "x" });
   * await queue.receive();
   * now += 10;
   * assert.equal(await queue.receive(), undefined); // dead
   * assert.equal(await queue.redrive(), 1);
   * assert.equal((await queue.receive())?.received, 1);
   * ```
   */
  redrive(ids?: MessageId | readonly MessageId[]): Promise<number> {
    const action = "redrive messages";
    return this.#run(action, "transaction", () => {
      const list = ids === undefined || Array.isArray(ids) ? ids : [ids];
      if (list !== undefined) {
        parseList(action, "ids", list, (entry, id) => {
          checkName(entry, "id", id);
          return id;
        });
      }
      return () => this.#ops.redrive(list as readonly MessageId[] | undefined);
    });
  }

  /**
   * Deletes every dead message of the queue.
   *
   * @returns How many were deleted.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Purging dead messages
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q" });
   * assert.equal(await queue.purgeDead(), 0);
   * ```
   */
  purgeDead(): Promise<number> {
    return this.#run("purge dead messages", "statement", () => () => this.#ops.purgeDead());
  }

  /**
   * Deletes every message of the queue, in any state. Other queues in the table are untouched.
   *
   * @returns How many were deleted.
   * @throws {QueueError} If the queue is closed or SQLite fails.
   *
   * @example Emptying a queue
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * const queue = new Queue({ db, name: "q" });
   * await queue.sendBatch([{ body: "a" }, { body: "b", delay: 1000 }]);
   * assert.equal(await queue.purge(), 2);
   * ```
   */
  purge(): Promise<number> {
    return this.#run("purge queue", "statement", () => () => this.#ops.purge());
  }

  /**
   * Runs `fn` in a transaction on the queue's connection, with the queue's operations in
   * synchronous form, and returns what `fn` returns. Your own writes on the same connection
   * inside `fn` commit or roll back together with the messages. Inside a transaction already
   * open on the connection (yours), it becomes a savepoint of it.
   *
   * It blocks: being synchronous, it waits for another connection's write lock with SQLite's own
   * busy handler, and the whole process (timers, servers, other queues' waits) waits with it,
   * up to the database's `busyTimeout`. The queue's asynchronous operations never do; use them
   * where you can. They also never join a transaction they did not open: called inside `fn`,
   * they run after it ends, so use the operations `fn` is handed.
   *
   * @typeParam T What `fn` returns.
   * @param fn The work; it must be synchronous.
   * @returns What `fn` returned.
   * @throws {TypeError} If `fn` returns a promise (the transaction is rolled back).
   * @throws {QueueError} If the queue is closed or SQLite fails; whatever `fn` throws, after
   * rolling back.
   *
   * @example An order and its email, atomically
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import assert from "node:assert/strict";
   *
   * using db = open(":memory:");
   * setup(db);
   * db.exec("create table orders (id integer primary key, total integer not null)");
   * const queue = new Queue({ db, name: "emails" });
   *
   * queue.transaction((tx) => {
   *   db.prepare("insert into orders (id, total) values (?, ?)").run(1, 1999);
   *   tx.send({ body: "order 1 confirmed" });
   * });
   * assert.throws(() =>
   *   queue.transaction((tx) => {
   *     db.prepare("insert into orders (id, total) values (?, ?)").run(2, 500);
   *     tx.send({ body: "order 2 confirmed" });
   *     throw new Error("payment declined");
   *   })
   * );
   * assert.equal(db.prepare("select count(*) as n from orders").get()?.n, 1);
   * assert.ok(await queue.receive());
   * assert.equal(await queue.receive(), undefined);
   * ```
   */
  transaction<T>(fn: (tx: QueueTransaction) => T): T {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot run transaction as 'fn' must be a function: current value is ${show(fn)}`,
      );
    }
    this.#assertOpen("run transaction");
    let active = true;
    const run = <R>(action: string, work: () => R): R => {
      if (!active) {
        throw new QueueError("CLOSED", `Cannot ${action} as the transaction has ended`);
      }
      return this.#sync(action, work);
    };
    const tx: QueueTransaction = {
      queue: this,
      send: (message) => run("send message", () => this.#ops.send([this.#parseOne(message)])[0]!),
      sendBatch: (messages) =>
        run("send messages", () => this.#ops.send(this.#parseMany(messages))),
      receive: () => run("receive message", () => this.#ops.receive(1)[0]),
      receiveBatch: (max) =>
        run("receive messages", () => {
          checkInteger("receive messages", "max", max, 1);
          return this.#ops.receive(max);
        }),
      extend: (target, delay) =>
        run("extend message", () => {
          const parsed = toTarget("extend message", target);
          checkDuration("extend message", "delay", delay);
          return this.#ops.extend([parsed], delay)[0]!;
        }),
      extendBatch: (targets, delay) =>
        run("extend messages", () => {
          const parsed = parseList("extend messages", "targets", targets, toTarget);
          checkDuration("extend messages", "delay", delay);
          return this.#ops.extend(parsed, delay);
        }),
      delete: (target) =>
        run("delete message", () => this.#ops.delete([toTarget("delete message", target)])[0]!),
      deleteBatch: (targets) =>
        run(
          "delete messages",
          () => this.#ops.delete(parseList("delete messages", "targets", targets, toTarget)),
        ),
    };
    try {
      return this.db.transaction(() => fn(tx));
    } finally {
      active = false;
    }
  }

  /**
   * Closes the queue: later calls fail with `CLOSED`, and pending `receiveAndWait` calls reject
   * with it. If the queue opened its database from a path, the database is closed too.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#ops.room.wakeOwner(this);
      if (this.#owned) this.db.close();
    }
    return Promise.resolve();
  }

  /** Closes the queue, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(action: string): void {
    if (this.#closed) throw new QueueError("CLOSED", `Cannot ${action} as the queue is closed`);
    internals(this.db).assertOpen(action);
  }

  #sync<T>(action: string, work: () => T): T {
    this.#assertOpen(action);
    try {
      return work();
    } catch (error) {
      throw toQueueError(error, action);
    }
  }

  /**
   * Checks the arguments (`prepare` throws at once, as a rejection), then runs the work it
   * returns through the connection's lock handling.
   */
  #run<T>(action: string, mode: WriteMode, prepare: () => () => T): Promise<T> {
    let work: () => T;
    try {
      this.#assertOpen(action);
      work = prepare();
    } catch (error) {
      return Promise.reject(error);
    }
    return internals(this.db).write(action, mode, work);
  }

  #parseOne(message: SendMessage): Outgoing {
    return parseMessage("send message", message, this.#ops.settings.maxBodySize);
  }

  #parseMany(messages: readonly SendMessage[]): Outgoing[] {
    const limit = this.#ops.settings.maxBodySize;
    return parseList(
      "send messages",
      "messages",
      messages,
      (action, message) => parseMessage(action, message, limit),
    );
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
      const db = internals(this.db);
      return this.#ops.room.wait(this.name, this, max, interval, signal, {
        attempt: () => {
          this.#assertOpen(action);
          return db.write(action, "transaction", () => this.#ops.receive(max), signal);
        },
        nextDue: () => db.write(action, "read", () => this.#ops.nextDue(), signal),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
