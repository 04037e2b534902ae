/**
 * The logger shape every part of qite accepts.
 *
 * @module
 */

/**
 * A logger with one method, like goqite's: console and structured loggers fit. qite logs
 * nothing unless it is given one.
 *
 * @example Logging to the console
 * ```ts
 * import type { Logger } from "@qite/qite";
 *
 * const logger: Logger = { info: (message, fields) => console.log(message, fields) };
 * logger.info("Started", { queue: "jobs" });
 * ```
 */
export interface Logger {
  /** Logs a message with structured fields. */
  info(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Logs through `logger` if there is one; a logger that throws is ignored, so logging can never
 * break the caller.
 *
 * @param logger The logger, or `undefined` for silence.
 * @param message The message.
 * @param fields Structured fields.
 */
export function log(
  logger: Logger | undefined,
  message: string,
  fields: Record<string, unknown>,
): void {
  if (logger === undefined) return;
  try {
    logger.info(message, fields);
  } catch {
    // A broken logger must not stop the caller.
  }
}

/**
 * Describes an error in one line for a log field.
 *
 * @param error What was thrown.
 * @returns `"Name: message"`, or the value as a string.
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
