/**
 * goqite's wire format: JSON with Go's encodings (PascalCase keys matched case-insensitively,
 * `Body` as standard base64, `Delay` as integer nanoseconds), read strictly and written byte for
 * byte as Go's `json.Encoder` writes it.
 *
 * @module
 */

import { type Json, JsonNumber, JsonObject, jsonType, parseJson } from "./_json.ts";

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

/** A `Message` object of a request, with only the keys that were given (null counts as absent). */
export interface WireMessage {
  id?: string;
  body?: Uint8Array;
  /** Whether a `Body` key was given at all (null included): goqite's clients always send it. */
  hasBody: boolean;
  delay?: bigint;
  priority?: bigint;
  /** qite's fence: the receipt's delivery token. */
  delivery?: string;
}

/** A request body: goqite's `{"Message": …}`, or qite's batch and redrive forms. */
export interface WireRequest {
  message?: WireMessage;
  messages?: WireMessage[];
  ids?: string[];
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function typeError(value: Json, field: string, wanted: string): WireError {
  return new WireError(
    `error decoding request: cannot use ${jsonType(value)} as ${field}: it must be ${wanted}`,
  );
}

/** Calls `each` for every member of `object` whose key matches one of `names`, ignoring case. */
function members(
  object: JsonObject,
  names: readonly string[],
  each: (name: string, value: Json) => void,
): void {
  for (const [key, value] of object.entries) {
    const lower = key.toLowerCase();
    const name = names.find((candidate) => candidate.toLowerCase() === lower);
    if (name !== undefined) each(name, value);
  }
}

function int64(value: Json, field: string): bigint | undefined {
  if (value === null) return undefined;
  if (!(value instanceof JsonNumber)) throw typeError(value, field, "an integer");
  if (!INTEGER.test(value.text)) {
    throw new WireError(
      `error decoding request: cannot use number ${value.text} as ${field}: it must be an integer`,
    );
  }
  const n = BigInt(value.text);
  if (n < INT64_MIN || n > INT64_MAX) {
    throw new WireError(
      `error decoding request: cannot use number ${value.text} as ${field}: it overflows 64 bits`,
    );
  }
  return n;
}

function text(value: Json, field: string): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== "string") throw typeError(value, field, "a string");
  return value;
}

function bytes(value: Json, field: string): Uint8Array | undefined {
  if (value === null) return undefined;
  if (typeof value !== "string") throw typeError(value, field, "a base64 string");
  const compact = value.replace(/[\r\n]/g, "");
  if (!BASE64.test(compact)) {
    throw new WireError(
      `error decoding request: ${field} is not valid standard base64 (with padding)`,
    );
  }
  return decodeBase64(compact);
}

function message(value: Json, field: string): WireMessage | undefined {
  if (value === null) return undefined;
  if (!(value instanceof JsonObject)) throw typeError(value, field, "an object");
  const result: WireMessage = { hasBody: false };
  members(value, ["ID", "Body", "Delay", "Priority", "Delivery"], (name, member) => {
    const path = `${field}.${name}`;
    if (name === "ID") assign(result, "id", text(member, path));
    else if (name === "Body") {
      result.hasBody = true;
      assign(result, "body", bytes(member, path));
    } else if (name === "Delay") assign(result, "delay", int64(member, path));
    else if (name === "Priority") assign(result, "priority", int64(member, path));
    else assign(result, "delivery", text(member, path));
  });
  return result;
}

/** Sets or clears an optional key (so that a later `null` undoes an earlier value, as in Go). */
function assign<K extends keyof WireMessage>(
  target: WireMessage,
  key: K,
  value: WireMessage[K] | undefined,
): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

function list<T>(value: Json, field: string, item: (value: Json, field: string) => T): T[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw typeError(value, field, "an array");
  return value.map((entry, i) => item(entry, `${field}[${i}]`));
}

/**
 * Decodes a request body as goqite does (plus qite's `Messages` and `IDs` keys).
 *
 * @param body The raw request body.
 * @param allowEmpty Whether an empty body means "nothing given" (redrive) rather than an error.
 * @returns The request.
 * @throws {WireError} Saying what is wrong.
 */
export function decodeRequest(body: Uint8Array, allowEmpty = false): WireRequest {
  const source = new TextDecoder().decode(body);
  if (source.trim() === "") {
    if (allowEmpty) return {};
    throw new WireError("error decoding request: the body is empty");
  }
  let json: Json;
  try {
    json = parseJson(source);
  } catch (error) {
    throw new WireError(`error decoding request: ${(error as Error).message}`);
  }
  if (json === null) return {};
  if (!(json instanceof JsonObject)) throw typeError(json, "the request", "an object");
  const request: WireRequest = {};
  members(json, ["Message", "Messages", "IDs"], (name, value) => {
    if (name === "Message") {
      const decoded = message(value, "Message");
      if (decoded === undefined) delete request.message;
      else request.message = decoded;
    } else if (name === "Messages") {
      request.messages = list(value, "Messages", (entry, field) => {
        const decoded = message(entry, field);
        if (decoded === undefined) {
          throw new WireError(`error decoding request: ${field} must be an object, not null`);
        }
        return decoded;
      });
    } else {
      request.ids = list(value, "IDs", (entry, field) => {
        const id = text(entry, field);
        if (id === undefined || id === "") {
          throw new WireError(`error decoding request: ${field} must be a non-empty string`);
        }
        return id;
      });
    }
  });
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
