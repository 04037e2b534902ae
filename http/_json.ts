/**
 * A strict JSON reader that keeps number literals as text, so that nanosecond delays and 64-bit
 * integers are judged as Go judges them (an integer literal within 64 bits), not after
 * JavaScript has rounded them to a double.
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

/** An object's members, in order (duplicates kept: the last one wins when read). */
export class JsonObject {
  /** The members, in the order written. */
  readonly entries: Array<[string, Json]> = [];
}

/** A parsed JSON value. */
export type Json = null | boolean | string | JsonNumber | Json[] | JsonObject;

/** The deepest nesting accepted; deeper input is refused rather than risking the stack. */
const MAX_DEPTH = 64;

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

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
// Control characters must be escaped inside JSON strings, so they end a run of plain text.
// deno-lint-ignore no-control-regex
const PLAIN = /[^"\\\u0000-\u001f]*/y;

/**
 * Parses one JSON text, with nothing but whitespace after it.
 *
 * @param text The JSON text.
 * @returns The value.
 * @throws {SyntaxError} Saying what is wrong and at which offset.
 */
export function parseJson(text: string): Json {
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
      if (c !== "\\") fail("invalid character in string");
      const e = text[at + 1];
      if (e === "u") {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\u escape in string");
        out += String.fromCharCode(parseInt(hex, 16));
        at += 6;
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
        at += 2;
      } else fail("invalid escape in string");
    }
  };
  const value = (depth: number): Json => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skip();
    const c = text[at];
    if (c === "{") {
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
        } else fail("expected ',' or '}' in object");
      }
    }
    if (c === "[") {
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
        } else fail("expected ',' or ']' in array");
      }
    }
    if (c === '"') return string();
    for (const [word, result] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return result;
      }
    }
    NUMBER.lastIndex = at;
    if (NUMBER.test(text)) {
      const literal = text.slice(at, NUMBER.lastIndex);
      at = NUMBER.lastIndex;
      return new JsonNumber(literal);
    }
    return fail("invalid character looking for the beginning of a value");
  };
  const result = value(0);
  skip();
  if (at < text.length) fail("invalid character after the top-level value");
  return result;
}

/** Names a JSON value's type for an error message, as Go does ("string", "number", …). */
export function jsonType(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof JsonNumber) return "number";
  if (value instanceof JsonObject) return "object";
  return typeof value === "boolean" ? "bool" : "string";
}
