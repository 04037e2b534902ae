/**
 * The one interface of a queue's operations, whatever is behind it: the SQLite `Queue`, the
 * PostgreSQL queue and the HTTP client all implement it, and the job runner, the HTTP handler,
 * the server, the dashboard and the command line depend on it alone.
 *
 * @module
 */

import type {
  DeadPage,
  Message,
  MessageId,
  MessageInfo,
  QueueStats,
  Receipt,
  SendMessage,
} from "./message.ts";

/** Options for {@linkcode QueueLike.receiveAndWait}. */
export interface ReceiveAndWaitOptions {
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The longest time, in milliseconds, between two receive attempts on this queue when nothing
   * wakes the wait. Sends in this process wake it at once, commits by other processes within a
   * few milliseconds, and delayed or in-flight messages when they become visible; the interval
   * is the fallback for anything else.
   *
   * @default {100}
   */
  interval?: number;
}

/** Options for {@linkcode QueueLike.listDead}. */
export interface ListDeadOptions {
  /**
   * The most messages to return.
   *
   * @default {100}
   */
  limit?: number;
  /** Where to continue: the `cursor` of the previous page (`undefined` starts at the first). */
  cursor?: string | undefined;
  /**
   * Reads at most this many bytes of each body, its start (each message's `size` is still its
   * whole size): for a view of a queue whose messages may be large.
   *
   * @default {undefined} (whole bodies)
   */
  bodyBytes?: number | undefined;
}

/** Which messages {@linkcode QueueLike.peek} looks at. */
export type PeekState =
  /** Receivable now, in the order they would be received. */
  | "visible"
  /** Never received and hidden until their delay passes, soonest first. */
  | "delayed"
  /** Received and hidden until their lease runs out, soonest first. */
  | "inFlight";

/** Options for {@linkcode QueueLike.peek}. */
export interface PeekOptions {
  /**
   * The most messages to return.
   *
   * @default {10}
   */
  limit?: number;
  /**
   * Which messages: visible ones (in receive order), delayed ones or in-flight ones (both by
   * the time they become visible). Dead messages: see `listDead`.
   *
   * @default {"visible"}
   */
  state?: PeekState;
  /**
   * Reads at most this many bytes of each body, its start (each message's `size` is still its
   * whole size): for a view of a queue whose messages may be large.
   *
   * @default {undefined} (whole bodies)
   */
  bodyBytes?: number | undefined;
}

/** What {@linkcode QueueLike.deleteAndReceive} returns. */
export interface DeleteAndReceiveResult {
  /** For each target to delete, in order, whether it was deleted. */
  readonly deleted: boolean[];
  /** The messages received. */
  readonly messages: Message[];
}

/**
 * A named queue's operations, as the SQLite `Queue`, the PostgreSQL queue and the HTTP client
 * offer them. Code written against it (a worker, the job runner, the HTTP handler) runs over any
 * of them.
 *
 * Misuse (a wrong argument) throws `TypeError` or `RangeError` before anything happens;
 * operational failures reject with `QueueError`.
 *
 * @example A worker that runs over any queue
 * ```ts
 * import { open, Queue, type QueueLike, setup } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * async function drain(queue: QueueLike): Promise<string[]> {
 *   const seen: string[] = [];
 *   for (let m = await queue.receive(); m; m = await queue.receive()) {
 *     seen.push(new TextDecoder().decode(m.body));
 *     await queue.delete(m);
 *   }
 *   return seen;
 * }
 *
 * using db = open(":memory:");
 * setup(db);
 * const queue = new Queue({ db, name: "work" });
 * await queue.sendBatch([{ body: "a" }, { body: "b" }]);
 * assert.deepEqual(await drain(queue), ["a", "b"]);
 * ```
 */
export interface QueueLike {
  /** The queue's name. */
  readonly name: string;
  /** How long, in milliseconds, a received message stays invisible (its lease). */
  readonly timeout: number;
  /** How many times a message can be received before it is dead. */
  readonly maxReceive: number;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
  /** Sends a message; returns its id (`undefined` where the server does not say it). */
  send(message: SendMessage): Promise<MessageId | undefined>;
  /** Sends several messages atomically; returns their ids in order. */
  sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]>;
  /** Receives the next visible message, or `undefined` when there is none. */
  receive(): Promise<Message | undefined>;
  /** Receives up to `max` visible messages at once. */
  receiveBatch(max: number): Promise<Message[]>;
  /** Receives the next message, waiting until one is visible. */
  receiveAndWait(options?: ReceiveAndWaitOptions): Promise<Message>;
  /** Receives one to `max` messages, waiting until at least one is visible. */
  receiveBatchAndWait(max: number, options?: ReceiveAndWaitOptions): Promise<Message[]>;
  /** Hides a message for `delay` ms from now; `false` if it no longer applies. */
  extend(target: MessageId | Receipt, delay: number): Promise<boolean>;
  /** Extends several messages atomically; whether each applied. */
  extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]>;
  /** Deletes a message; `false` if it no longer applies. */
  delete(target: MessageId | Receipt): Promise<boolean>;
  /** Deletes several messages atomically; whether each applied. */
  deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]>;
  /** Deletes `targets` and receives up to `max` messages, in one step where the engine can. */
  deleteAndReceive(
    targets: readonly (MessageId | Receipt)[],
    max: number,
  ): Promise<DeleteAndReceiveResult>;
  /**
   * Hands a received message back without counting its receive: visible again after `delay`
   * ms (default 0), behind the messages already waiting. Fenced: only while the delivery holds
   * the message.
   */
  release(receipt: Receipt, delay?: number): Promise<boolean>;
  /** Like `release`, for several messages atomically. */
  releaseBatch(receipts: readonly Receipt[], delay?: number): Promise<boolean[]>;
  /** Makes a received message dead at once. Fenced: only while the delivery holds it. */
  bury(receipt: Receipt): Promise<boolean>;
  /**
   * Up to `limit` visible messages in receive order (or delayed or in-flight ones, soonest
   * visible first), without receiving them.
   */
  peek(options?: PeekOptions): Promise<MessageInfo[]>;
  /** Exact counts by state. */
  stats(): Promise<QueueStats>;
  /** A page of dead messages, oldest first. */
  listDead(options?: ListDeadOptions): Promise<DeadPage>;
  /** How many messages are dead. */
  countDead(): Promise<number>;
  /** Makes dead messages receivable again (all, or the given ids); how many. */
  redrive(ids?: MessageId | readonly MessageId[]): Promise<number>;
  /** Deletes the dead messages; how many. */
  purgeDead(): Promise<number>;
  /** Deletes every message of the queue; how many. */
  purge(): Promise<number>;
  /** Closes the queue: later calls fail with `CLOSED`, waits end with it. */
  close(): Promise<void>;
}
