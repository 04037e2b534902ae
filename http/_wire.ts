/**
 * goqite's wire format: JSON with Go's encodings (PascalCase keys matched as Go matches them,
 * `Body` as standard base64 or an array of byte values, `Delay` as integer nanoseconds), read
 * as Go's `encoding/json` reads it into goqite's types, and written as Go's `json.Encoder`
 * writes it.
 *
 * @module
 */

import {
  decodeUtf8,
  type Json,
  type JsonLimits,
  JsonNumber,
  JsonObject,
  jsonType,
  parseFirstJson,
  QITE_LIMITS,
} from "./_json.ts";

/** A request that cannot be decoded; its message is the 400 body. */
export class WireError extends Error {
  /** The HTTP status to answer with. */
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = "WireError";
    this.status = status;
  }
}

/**
 * A `Message` object of a request, as Go decodes it into goqite's `Message`: a key left out or
 * given as `null` leaves the field as it was (its zero value at first), except `Body`, which
 * `null` sets back to nil (`undefined` here).
 */
export interface WireMessage {
  id?: string;
  body?: Uint8Array;
  delay?: bigint;
  priority?: bigint;
  /** qite's fence: the receipt's delivery token (goqite has no such field and ignores it). */
  delivery?: string;
}

/** A request body: goqite's `{"Message": …}`, or qite's batch and redrive forms. */
export interface WireRequest {
  message?: WireMessage;
  messages?: WireMessage[];
  ids?: string[];
  /**
   * `"Message": false` came with qite's keys: qite's client adds it to every request that only
   * a qite server understands, so that goqite's handler refuses the request (400, it cannot
   * decode `false` as its `Message`) instead of sending an empty message.
   */
  notForGoqite?: true;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const UNSIGNED = /^(?:0|[1-9][0-9]*)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_EXCERPT = 64;

/**
 * A short, escaped excerpt of client input for an error message: JSON-quoted, at most 64
 * characters of it, with the whole length when it was cut.
 *
 * @param text The input.
 * @returns The quoted excerpt.
 */
export function excerpt(text: string): string {
  if (text.length <= MAX_EXCERPT) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, MAX_EXCERPT)).slice(0, -1)}…" (${text.length} characters)`;
}

function decodeError(message: string): WireError {
  return new WireError(`error decoding request: ${message}`);
}

function typeError(value: Json, field: string, wanted: string): WireError {
  return decodeError(`cannot use ${jsonType(value)} as ${field}: it must be ${wanted}`);
}

/** goqite's refusal of `"Message": false`, where qite's keys do not make it qite's mark. */
export function falseMessageError(): WireError {
  return typeError(false, "Message", "an object");
}

/**
 * Whether a JSON key names `name` under Go's key matching (Unicode simple case folding, so
 * U+017F ſ matches `s` and U+212A, the Kelvin sign, matches `k`). `name` is ASCII.
 */
export function keyMatches(key: string, name: string): boolean {
  if (key.length !== name.length) {
    // ſ and K are one UTF-16 unit each, like the ASCII letters they fold to.
    return false;
  }
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c === 0x17f) c = 0x73; // ſ -> s
    else if (c === 0x212a) c = 0x6b; // Kelvin sign -> k
    else if (c >= 0x41 && c <= 0x5a) c += 0x20;
    let n = name.charCodeAt(i);
    if (n >= 0x41 && n <= 0x5a) n += 0x20;
    if (c !== n) return false;
  }
  return true;
}

/** Calls `each` for every member of `object` whose key matches one of `names`. */
function members(
  object: JsonObject,
  names: readonly string[],
  each: (name: string, value: Json) => void,
): void {
  for (const [key, value] of object.entries) {
    const name = names.find((candidate) => keyMatches(key, candidate));
    if (name !== undefined) each(name, value);
  }
}

/** A Go `int64`/`int` (or `time.Duration`) field: an integer literal within 64 bits. */
function int64(value: Json, field: string): bigint | undefined {
  if (value === null) return undefined;
  if (!(value instanceof JsonNumber)) throw typeError(value, field, "an integer");
  if (!INTEGER.test(value.text)) {
    throw decodeError(`cannot use number ${value.text} as ${field}: it must be an integer`);
  }
  const n = BigInt(value.text);
  if (n < INT64_MIN || n > INT64_MAX) {
    throw decodeError(`cannot use number ${value.text} as ${field}: it overflows 64 bits`);
  }
  return n;
}

function text(value: Json, field: string): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== "string") throw typeError(value, field, "a string");
  return value;
}

/** A Go `[]byte` field: a base64 string, or an array of byte values (`null` entries are 0). */
function bytes(value: Json, field: string): Uint8Array | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const out = new Uint8Array(value.length);
    value.forEach((entry, i) => {
      if (entry === null) return;
      const where = `${field}[${i}]`;
      if (!(entry instanceof JsonNumber)) throw typeError(entry, where, "a byte (0 to 255)");
      const n = UNSIGNED.test(entry.text) && entry.text.length <= 3 ? Number(entry.text) : 256;
      if (n > 255) {
        throw decodeError(`cannot use number ${entry.text} as ${where}: it must be 0 to 255`);
      }
      out[i] = n;
    });
    return out;
  }
  if (typeof value !== "string") throw typeError(value, field, "a base64 string");
  const compact = value.replace(/[\r\n]/g, "");
  if (!BASE64.test(compact)) {
    throw decodeError(`${field} is not valid standard base64 (with padding)`);
  }
  return decodeBase64(compact);
}

const GOQITE_FIELDS = ["ID", "Body", "Delay", "Priority"] as const;
const MESSAGE_FIELDS = [...GOQITE_FIELDS, "Delivery"] as const;

/** Decodes a `Message` object into `target`, as Go decodes into an existing struct. */
function message(
  value: JsonObject,
  field: string,
  target: WireMessage,
  fields: readonly string[],
): WireMessage {
  members(value, fields, (name, member) => {
    const path = `${field}.${name}`;
    if (name === "ID") keep(target, "id", text(member, path));
    else if (name === "Body") {
      const decoded = bytes(member, path);
      if (decoded === undefined) delete target.body; // null sets a []byte back to nil
      else target.body = decoded;
    } else if (name === "Delay") keep(target, "delay", int64(member, path));
    else if (name === "Priority") keep(target, "priority", int64(member, path));
    else keep(target, "delivery", text(member, path));
  });
  return target;
}

/** Sets an optional key; `undefined` (a JSON null) leaves it as it was, as in Go. */
function keep<K extends keyof WireMessage>(
  target: WireMessage,
  key: K,
  value: WireMessage[K] | undefined,
): void {
  if (value !== undefined) target[key] = value;
}

function list<T>(value: Json, field: string, item: (value: Json, field: string) => T): T[] {
  if (!Array.isArray(value)) throw typeError(value, field, "an array");
  return value.map((entry, i) => item(entry, `${field}[${i}]`));
}

/** Options for {@linkcode decodeRequest}. */
export interface DecodeOptions {
  /** Whether an empty body means "nothing given" (redrive) rather than an error. */
  allowEmpty?: boolean;
  /** Whether qite's keys (`Messages`, `IDs`, `Delivery`) are read; goqite ignores them. */
  extensions?: boolean;
  /** How deep and how long the JSON may go. */
  limits?: JsonLimits;
}

/**
 * Decodes a request body as goqite does with `json.NewDecoder(body).Decode(&request)`: the first
 * JSON value only, keys matched as Go matches them, `null` leaving fields as they were, a later
 * `Message` merged into an earlier one; plus qite's `Messages` and `IDs` keys.
 *
 * @param body The raw request body.
 * @param options Whether an empty body is allowed, qite's keys, the JSON limits.
 * @returns The request.
 * @throws {WireError} Saying what is wrong, quoting no more than a short excerpt of the input.
 */
export function decodeRequest(body: Uint8Array, options: DecodeOptions = {}): WireRequest {
  const { allowEmpty = false, extensions = true, limits = QITE_LIMITS } = options;
  const names = extensions ? ["Message", "Messages", "IDs"] : ["Message"];
  const fields = extensions ? MESSAGE_FIELDS : GOQITE_FIELDS;
  let json: Json | undefined;
  try {
    json = parseFirstJson(decodeUtf8(body), limits);
  } catch (error) {
    throw decodeError((error as Error).message);
  }
  if (json === undefined) {
    if (allowEmpty) return {};
    throw decodeError("EOF");
  }
  if (json === null) return {};
  if (!(json instanceof JsonObject)) throw typeError(json, "the request", "an object");
  const request: WireRequest = {};
  members(json, names, (name, value) => {
    if (value === null) return;
    if (name === "Message") {
      if (value === false && extensions) {
        request.notForGoqite = true;
        return;
      }
      if (!(value instanceof JsonObject)) throw typeError(value, "Message", "an object");
      request.message = message(value, "Message", request.message ?? {}, fields);
    } else if (name === "Messages") {
      request.messages = list(value, "Messages", (entry, field) => {
        if (!(entry instanceof JsonObject)) throw typeError(entry, field, "an object");
        return message(entry, field, {}, fields);
      });
    } else {
      request.ids = list(value, "IDs", (entry, field) => {
        const id = text(entry, field);
        if (id === undefined || id === "") {
          throw decodeError(`${field} must be a non-empty string`);
        }
        return id;
      });
    }
  });
  if (request.notForGoqite && request.message !== undefined) throw falseMessageError();
  return request;
}

/** Decodes validated standard base64 (no whitespace) to bytes. */
function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

type ToBase64 = { toBase64?: () => string };

/** Encodes bytes as standard base64 with padding, as Go encodes a `[]byte`. */
export function encodeBase64(data: Uint8Array): string {
  const native = (data as Uint8Array & ToBase64).toBase64;
  if (typeof native === "function") return native.call(data);
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes standard base64 from the wire (for the client), or throws `WireError`. */
export function base64ToBytes(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string" || !BASE64.test(value)) {
    throw new WireError(`${field} is not standard base64`);
  }
  return decodeBase64(value);
}

/**
 * Serialises like Go's `json.Encoder`: `<`, `>`, `&`, U+2028 and U+2029 escaped, and a
 * trailing newline. A bigint (a 64-bit priority) is written as the integer it is.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item) => typeof item === "bigint" ? `\u0000bigint:${item}` : item,
  ).replace(/"\\u0000bigint:(-?[0-9]+)"/g, "$1").replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  ) + "\n";
}
