/**
 * Validation of what callers hand to a queue's operations, shared by every engine and the HTTP
 * client: bodies, durations, extend/delete targets, messages to send, lists.
 *
 * @module
 */

import type { Receipt, SendMessage } from "./message.ts";
import { MAX_DURATION_MS } from "./_time.ts";
import { checkInteger, show } from "./_validate.ts";

const encoder = new TextEncoder();

/** Converts a message body to bytes, or throws `TypeError`. */
export function toBody(action: string, body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return encoder.encode(body);
  throw new TypeError(
    `Cannot ${action} as 'body' must be a Uint8Array or a string: current value is ${show(body)}`,
  );
}

/** Checks a duration in milliseconds: an integer from 0 to `MAX_DURATION_MS` (about 292 years). */
export function checkDuration(
  action: string,
  name: string,
  value: unknown,
): asserts value is number {
  checkInteger(action, name, value, 0, MAX_DURATION_MS);
}

/** Reads `extend`/`delete`'s target: a bare id, or a receipt to fence on. */
export function toTarget(action: string, target: unknown): Target {
  if (typeof target === "string" && target !== "") return { id: target };
  if (typeof target === "object" && target !== null) {
    const { id, received } = target as Partial<Receipt>;
    if (typeof id === "string" && id !== "" && Number.isSafeInteger(received)) {
      return { id, received: received! };
    }
  }
  throw new TypeError(
    `Cannot ${action} as the target must be a message id or a received message: current value is ${
      show(target)
    }`,
  );
}

/** A validated message to send: body, delay (ms), priority (a bigint only beyond 2^53). */
export type Outgoing = readonly [body: Uint8Array, delay: number, priority: number | bigint];

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Checks a priority: a safe integer, or a bigint within 64 bits. */
export function checkPriority(
  action: string,
  value: unknown,
): asserts value is number | bigint {
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new RangeError(
        `Cannot ${action} as 'priority' must be within 64 bits (-2^63 to 2^63 - 1): current value is ${value}n`,
      );
    }
    return;
  }
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as 'priority' must be a number or a bigint: current value is ${
        show(value)
      }`,
    );
  }
  checkInteger(action, "priority", value);
}

/** A validated `extend`/`delete` target. */
export interface Target {
  readonly id: string;
  readonly received?: number;
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
  checkPriority(action, priority);
  return [bytes, delay, priority];
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
  return list.map((item, i) => parse(`${action} (entry ${i})`, item));
}
