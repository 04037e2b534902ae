/**
 * The command line's arguments: each command's flags, read with `node:util`'s `parseArgs`, the
 * settings that also come from the environment, and the mistake a user can make with them.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** A mistake in the command line: the command exits with status 2 and this one-line message. */
export class UsageError extends Error {
  /** The command whose `--help` tells more, or `undefined` for the top level. */
  readonly command: string | undefined;

  /**
   * @param message What is wrong, in a line.
   * @param command The command whose `--help` tells more.
   */
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** One flag: a string that takes a value, or a boolean switch. */
export interface Flag {
  readonly type: "string" | "boolean";
  readonly short?: string;
}

/** The values of the flags given, by name. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** The environment, as `process.env` gives it. */
export interface Env {
  readonly [name: string]: string | undefined;
}

/** What a command was given. */
export interface Parsed {
  readonly values: Values;
  readonly positionals: string[];
}

/**
 * Reads `args` with the command's flags; `--help` (or `-h`) is every command's.
 *
 * @throws {UsageError} If a flag is unknown or lacks its value.
 */
export function parseCommand(
  command: string,
  args: readonly string[],
  flags: Readonly<Record<string, Flag>>,
): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...flags, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError(oneLine((error as Error).message), command);
  }
}

/** A flag's string value, else the first environment variable that is set. */
export function setting(
  values: Values,
  flag: string,
  env: Env,
  ...names: string[]
): string | undefined {
  const value = values[flag];
  if (typeof value === "string") return value;
  return names.map((name) => env[name]).find((v) => v !== undefined);
}

/**
 * A whole number from a flag's text, within `min` and `max`.
 *
 * @throws {UsageError} If the text is not such a number.
 */
export function wholeNumber(
  command: string,
  flag: string,
  text: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = /^-?[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(
      `--${flag} must be a whole number ${range}: current value is ${JSON.stringify(text)}`,
      command,
    );
  }
  return value;
}

/** `text` on one line: line breaks become spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
