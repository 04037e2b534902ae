/**
 * The shapes of messages going in and coming out.
 *
 * @module
 */

/** A message id: `m_` followed by 32 lowercase hex digits. */
export type MessageId = string;

/** A message to send. */
export interface SendMessage {
  /** The payload: bytes, or a string stored as its UTF-8 bytes. */
  body: Uint8Array | string;
  /**
   * How long, in milliseconds, the message stays invisible after sending.
   *
   * @default {0}
   */
  delay?: number;
  /**
   * Higher is received first; equal priorities are received oldest first. A safe integer, or a
   * `bigint` within 64 bits.
   *
   * @default {0}
   */
  priority?: Priority;
}

/**
 * A message's priority: higher is received first. A `bigint` where a `number` cannot hold the
 * value exactly: rows written by other programs (Go's `int` is 64 bits) may hold priorities
 * beyond ±2^53, and qite reads them back exactly.
 */
export type Priority = number | bigint;

/**
 * What identifies one delivery of a message: its id and an opaque token of the delivery.
 * `extend`, `delete`, `release` and `bury` given a receipt only act while that delivery still
 * holds the message: from its receive until the message is received again, released, redriven,
 * buried or deleted. (A lease that ran out without anyone receiving the message again still
 * holds it, as in SQS.)
 */
export interface Receipt {
  /** The message id. */
  readonly id: MessageId;
  /**
   * Identifies this delivery; opaque. It never repeats for a message, whatever happens to the
   * message (receives, releases, redrives), so a stale receipt can never act on a later
   * delivery. Empty for a message received from a server that gives none (goqite's HTTP
   * handler): such a receipt acts as the bare id.
   */
  readonly delivery: string;
}

/** A received message. It is also the {@linkcode Receipt} of this delivery. */
export interface Message extends Receipt {
  /** The payload. */
  readonly body: Uint8Array;
  /** How many times the message has been received, counting this delivery. */
  readonly received: number;
  /** The message's priority. */
  readonly priority: Priority;
}

/** A message as it sits in the table, for `peek` and `listDead`. */
export interface MessageInfo extends Message {
  /** When it was sent. */
  readonly created: Date;
  /** When it becomes (or became) visible: after its delay, or when its lease runs out. */
  readonly timeout: Date;
  /** The body's size in bytes: `body.length`, unless `bodyBytes` asked for less of it. */
  readonly size: number;
}

/** One page of dead messages. */
export interface DeadPage {
  /** The dead messages, oldest first. */
  readonly messages: MessageInfo[];
  /** Pass it to `listDead` for the next page; `undefined` on the last page. */
  readonly cursor: string | undefined;
}

/**
 * A queue's exact counts by state. Every message is in exactly one state, so the four counts
 * add up to `total`.
 */
export interface QueueStats {
  /** Every message of the queue. */
  readonly total: number;
  /** Receivable now. */
  readonly visible: number;
  /** Received, and hidden until its timeout. */
  readonly inFlight: number;
  /** Never received, and hidden until its delay has passed. */
  readonly delayed: number;
  /** Received `maxReceive` times and no longer hidden: never handed out again. */
  readonly dead: number;
  /** Milliseconds since the oldest visible message was sent; `undefined` when none is visible. */
  readonly oldestVisibleAge: number | undefined;
}
