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
   * Higher is received first; equal priorities are received oldest first.
   *
   * @default {0}
   */
  priority?: number;
}

/**
 * What identifies one delivery of a message: its id and its receive count at that delivery.
 * `extend` and `delete` given a receipt only act while that delivery still holds the message.
 */
export interface Receipt {
  /** The message id. */
  readonly id: MessageId;
  /** How many times the message had been received, counting this delivery. */
  readonly received: number;
}

/** A received message. It is also the {@linkcode Receipt} of this delivery. */
export interface Message extends Receipt {
  /** The payload. */
  readonly body: Uint8Array;
  /** The message's priority. */
  readonly priority: number;
}
