/**
 * A strict JSON reader that reads request bodies as Go's `json.Decoder` reads them: the first
 * value only (whatever follows it is never looked at), number literals kept as text (so that
 * nanosecond delays and 64-bit integers are judged as Go judges them, not after JavaScript has
 * rounded them to a double), and bytes that are not UTF-8 replaced one by one with U+FFFD, as
 * Go replaces them inside strings (outside strings they are a syntax error either way).
 *
 * Bounded: a number literal longer than {@linkcode MAX_NUMBER_LENGTH} characters and nesting
 * deeper than {@linkcode MAX_DEPTH} are refused as soon as they are seen.
 *
 * @module
 */

/** A number literal, as written. */
export class JsonNumber {
  /** The literal, e.g. `"-12"` or `"1.5e3"`. */
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** An object's members, in order (duplicates kept: readers apply them in order, as Go does). */
export class JsonObject {
  /** The members, in the order written. */
  readonly entries: Array<[string, Json]> = [];
}

/** A parsed JSON value. */
export type Json = null | boolean | string | JsonNumber | Json[] | JsonObject;

/** The most objects and arrays open at once (Go allows 10 000); deeper input is refused. */
export const MAX_DEPTH = 64;

/**
 * The longest number literal accepted, in characters. A 64-bit integer takes at most 20; longer
 * literals are refused where they stand, before any more of them is read.
 */
export const MAX_NUMBER_LENGTH = 32;

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

const WHITESPACE = /[ \t\n\r]*/y;
// Control characters must be escaped inside JSON strings, so they end a run of plain text.
// deno-lint-ignore no-control-regex
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 as Go does: each byte that does not start a valid sequence becomes one U+FFFD
 * (a truncated 3-byte sequence is two of them, where the WHATWG decoder writes one). A
 * byte-order mark is kept, so that it is the syntax error it is for Go.
 *
 * @param bytes The bytes.
 * @returns The text.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return decodeLoose(bytes);
  }
}

function decodeLoose(bytes: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  let start = 0;
  const flush = (end: number): void => {
    if (end > start) out.push(strict.decode(bytes.subarray(start, end)));
  };
  while (i < bytes.length) {
    const size = sequenceSize(bytes, i);
    if (size > 0) {
      i += size;
      continue;
    }
    flush(i);
    out.push("\ufffd");
    i++;
    start = i;
  }
  flush(i);
  return out.join("");
}

/** The length of the valid UTF-8 sequence at `i`, or 0 (Go's `utf8.DecodeRune` ranges). */
function sequenceSize(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const in80BF = (k: number): boolean => b[k] !== undefined && b[k]! >= 0x80 && b[k]! <= 0xbf;
  const second = b[i + 1];
  if (c >= 0xc2 && c <= 0xdf) return in80BF(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return second !== undefined && second >= lo && second <= hi && in80BF(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return second !== undefined && second >= lo && second <= hi && in80BF(i + 2) &&
        in80BF(i + 3)
      ? 4
      : 0;
  }
  return 0;
}

/** How deep and how long {@linkcode parseFirstJson} lets input go. */
export interface JsonLimits {
  /** The deepest nesting. */
  readonly depth: number;
  /** The longest number literal, in characters. */
  readonly number: number;
}

/** qite's limits. */
export const QITE_LIMITS: JsonLimits = { depth: MAX_DEPTH, number: MAX_NUMBER_LENGTH };

/**
 * Parses the first JSON value of `text`, as Go's `json.Decoder.Decode` does: what follows the
 * value is not read.
 *
 * @param text The JSON text.
 * @param limits How deep and how long the input may go.
 * @returns The value, or `undefined` when the text holds only whitespace (Go's `EOF`).
 * @throws {SyntaxError} Saying what is wrong and at which offset, never quoting the input.
 */
export function parseFirstJson(
  text: string,
  limits: JsonLimits = QITE_LIMITS,
): Json | undefined {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(
      at >= text.length ? `unexpected end of JSON input (${what})` : `${what} at offset ${at}`,
    );
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.test(text);
    at = WHITESPACE.lastIndex;
  };
  const hex4 = (from: number): number => {
    const hex = text.slice(from, from + 4);
    return HEX4.test(hex) ? parseInt(hex, 16) : -1;
  };
  const string = (): string => {
    at++; // the opening quote
    let out = "";
    while (true) {
      PLAIN.lastIndex = at;
      PLAIN.test(text);
      out += text.slice(at, PLAIN.lastIndex);
      at = PLAIN.lastIndex;
      const c = text[at];
      if (c === '"') {
        at++;
        return out;
      }
      if (c === undefined) fail("unterminated string");
      if (c !== "\\") fail("control character in string");
      const e = text[at + 1];
      if (e === "u") {
        const unit = hex4(at + 2);
        if (unit < 0) fail("invalid \\u escape in string");
        at += 6;
        if (unit >= 0xd800 && unit <= 0xdfff) {
          // A surrogate: a pair with a following \u low surrogate, else U+FFFD (as Go does).
          const low = text[at] === "\\" && text[at + 1] === "u" ? hex4(at + 2) : -1;
          if (unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
            out += String.fromCharCode(unit, low);
            at += 6;
          } else out += "\ufffd";
        } else out += String.fromCharCode(unit);
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
        at += 2;
      } else fail("invalid escape in string");
    }
  };
  const number = (): JsonNumber => {
    const start = at;
    const digits = (): number => {
      const from = at;
      while (text[at]! >= "0" && text[at]! <= "9") {
        at++;
        if (at - start > limits.number) {
          at = start;
          fail(`number literal longer than ${limits.number} characters`);
        }
      }
      return at - from;
    };
    if (text[at] === "-") at++;
    if (text[at] === "0") at++;
    else if (digits() === 0) fail("invalid number");
    if (text[at] === ".") {
      at++;
      if (digits() === 0) fail("invalid number (no digit after the decimal point)");
    }
    if (text[at] === "e" || text[at] === "E") {
      at++;
      if (text[at] === "+" || text[at] === "-") at++;
      if (digits() === 0) fail("invalid number (no digit in the exponent)");
    }
    if (at - start > limits.number) {
      at = start;
      fail(`number literal longer than ${limits.number} characters`);
    }
    return new JsonNumber(text.slice(start, at));
  };
  // `depth` counts the objects and arrays open around the value, as Go counts nesting.
  const open = (depth: number): void => {
    if (depth + 1 > limits.depth) fail(`nesting deeper than ${limits.depth} levels`);
  };
  const value = (depth: number): Json => {
    skip();
    const c = text[at];
    if (c === "{") {
      open(depth);
      at++;
      const object = new JsonObject();
      skip();
      if (text[at] === "}") {
        at++;
        return object;
      }
      while (true) {
        skip();
        if (text[at] !== '"') fail("expected a string key");
        const key = string();
        skip();
        if (text[at] !== ":") fail("expected ':' after object key");
        at++;
        object.entries.push([key, value(depth + 1)]);
        skip();
        if (text[at] === ",") at++;
        else if (text[at] === "}") {
          at++;
          return object;
        } else fail("expected ',' or '}' after object key:value pair");
      }
    }
    if (c === "[") {
      open(depth);
      at++;
      const array: Json[] = [];
      skip();
      if (text[at] === "]") {
        at++;
        return array;
      }
      while (true) {
        array.push(value(depth + 1));
        skip();
        if (text[at] === ",") at++;
        else if (text[at] === "]") {
          at++;
          return array;
        } else fail("expected ',' or ']' after array element");
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    for (const [word, result] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return result;
      }
    }
    return fail("invalid character looking for the beginning of a value");
  };
  skip();
  if (at === text.length) return undefined;
  return value(0);
}

/** Names a JSON value's type for an error message, as Go does ("string", "number", …). */
export function jsonType(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof JsonNumber) return "number";
  if (value instanceof JsonObject) return "object";
  return typeof value === "boolean" ? "bool" : "string";
}

/**
 * Turns a parsed value into plain JavaScript, as `JSON.parse` would, except that an integer
 * beyond ±2^53 becomes an exact `bigint` (a 64-bit priority) instead of a rounded number. Of
 * duplicate keys, the last wins.
 *
 * @param value The parsed value.
 * @returns Plain objects, arrays, strings, numbers, bigints, booleans and nulls.
 */
export function toPlain(value: Json): unknown {
  if (value instanceof JsonNumber) {
    const n = Number(value.text);
    return !Number.isSafeInteger(n) && /^-?[0-9]+$/.test(value.text) ? BigInt(value.text) : n;
  }
  if (value instanceof JsonObject) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value.entries) out[key] = toPlain(item);
    return out;
  }
  if (Array.isArray(value)) return value.map(toPlain);
  return value;
}
