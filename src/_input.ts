/**
 * Validation of what callers hand to a queue's operations, shared by every engine and the HTTP
 * client: bodies, durations, extend/delete targets, messages to send, lists.
 *
 * @module
 */

import type { Priority, Receipt, SendMessage } from "./message.ts";
import { MAX_DURATION_MS } from "./_time.ts";
import { checkInteger, checkObject, checkOneOf, show } from "./_validate.ts";
import type { PeekOptions, PeekState } from "./queue_like.ts";

const encoder = new TextEncoder();

/** Converts a message body to bytes, or throws `TypeError`. */
export function toBody(action: string, body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") {
    // UTF-8 cannot carry a lone surrogate: encoding would change it into U+FFFD, silently.
    if (!body.isWellFormed()) {
      throw new TypeError(
        `Cannot ${action} as 'body' holds a lone surrogate, which UTF-8 cannot carry: send its ` +
          "bytes as a Uint8Array instead",
      );
    }
    return encoder.encode(body);
  }
  throw new TypeError(
    `Cannot ${action} as 'body' must be a Uint8Array or a string: current value is ${show(body)}`,
  );
}

/** Checks a duration in milliseconds: an integer from `min` (default 0) to `MAX_DURATION_MS`
 * (Go's longest duration, about 292 years).
 */
export function checkDuration(
  action: string,
  name: string,
  value: unknown,
  min = 0,
): asserts value is number {
  checkInteger(action, name, value, min, MAX_DURATION_MS);
}

/** Reads `extend`/`delete`'s target: a bare id, or a receipt to fence on. */
export function toTarget(action: string, target: unknown): Target {
  if (typeof target === "string" && target !== "") return { id: target };
  if (typeof target === "object" && target !== null) {
    const { id, delivery } = target as Partial<Receipt>;
    if (typeof id === "string" && id !== "" && typeof delivery === "string") {
      // A message from a server that gives no delivery token (goqite's) acts as its bare id.
      return delivery === "" ? { id } : { id, delivery };
    }
  }
  throw new TypeError(
    `Cannot ${action} as the target must be a message id or a received message: current value is ${
      show(target)
    }`,
  );
}

/** Reads a receipt (a received message), or throws `TypeError`. */
export function toReceipt(action: string, receipt: unknown): Receipt {
  const target = toTarget(action, receipt);
  if (target.delivery === undefined) {
    throw new TypeError(
      `Cannot ${action} as the target must be a received message (a receipt), not an id: ` +
        `current value is ${show(receipt)}`,
    );
  }
  return { id: target.id, delivery: target.delivery };
}

/** A validated message to send: body, delay (ms), priority. */
export type Outgoing = readonly [body: Uint8Array, delay: number, priority: Priority];

/** A validated `extend`/`delete` target. */
export interface Target {
  readonly id: string;
  /** The receipt's delivery token; absent for a bare id. */
  readonly delivery?: string;
}

/** Validates a message to send, with a body of at most `maxBodySize` bytes. */
export function parseMessage(action: string, message: unknown, maxBodySize: number): Outgoing {
  if (typeof message !== "object" || message === null) {
    throw new TypeError(
      `Cannot ${action} as the message must be an object with a body: current value is ${
        show(message)
      }`,
    );
  }
  const { body, delay = 0, priority = 0 } = message as SendMessage;
  const bytes = toBody(action, body);
  if (bytes.length > maxBodySize) {
    throw new RangeError(
      `Cannot ${action} as 'body' must be at most ${maxBodySize} bytes (the queue's ` +
        `maxBodySize): current size is ${bytes.length}`,
    );
  }
  checkDuration(action, "delay", delay);
  return [bytes, delay, checkPriority(action, priority)];
}

/** Validates a list argument, then each entry with `parse`. */
export function parseList<T>(
  action: string,
  name: string,
  list: unknown,
  parse: (action: string, item: unknown) => T,
): T[] {
  if (!Array.isArray(list)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be an array: current value is ${show(list)}`,
    );
  }
  // Array.from, not map: a hole is an entry too (undefined), refused like any other bad one.
  return Array.from(list, (item, i) => parse(`${action} (entry ${i})`, item));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Checks a priority: a safe integer, or a bigint within 64 bits (a bigint that is a safe integer
 * becomes a number).
 */
export function checkPriority(action: string, priority: unknown): Priority {
  if (typeof priority === "bigint") {
    if (priority < INT64_MIN || priority > INT64_MAX) {
      throw new RangeError(
        `Cannot ${action} as 'priority' must fit in 64 bits: current value is ${priority}n`,
      );
    }
    const small = Number(priority);
    return Number.isSafeInteger(small) ? small : priority;
  }
  checkInteger(action, "priority", priority);
  return priority;
}

/** Checks `peek`'s options; returns the limit (default 10) and the state (default visible). */
export function checkPeekOptions(
  action: string,
  options: unknown,
): { limit: number; state: PeekState; bodyBytes: number | undefined } {
  checkObject(action, "options", options);
  const { limit = 10, state = "visible", bodyBytes } = (options ?? {}) as PeekOptions;
  checkInteger(action, "limit", limit, 1);
  checkOneOf(action, "state", state, ["visible", "delayed", "inFlight"]);
  checkBodyBytes(action, bodyBytes);
  return { limit, state, bodyBytes };
}

/** Checks a `bodyBytes` option: `undefined`, or an integer from 0 to 2^31 - 1. */
export function checkBodyBytes(action: string, bodyBytes: unknown): void {
  if (bodyBytes !== undefined) checkInteger(action, "bodyBytes", bodyBytes, 0, 2 ** 31 - 1);
}

/**
 * Checks a queue name beyond being a non-empty string: it is stored as UTF-8, where a lone
 * surrogate would become U+FFFD and two different names one queue.
 *
 * @throws {TypeError} If it holds a lone surrogate.
 */
export function checkQueueName(action: string, name: string): void {
  if (!name.isWellFormed()) {
    throw new TypeError(
      `Cannot ${action} as 'name' holds a lone surrogate, which UTF-8 cannot carry: current ` +
        `value is ${show(name)}`,
    );
  }
}
