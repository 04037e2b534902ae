/**
 * The job envelope: how a job's name and body are stored in a message body.
 *
 * Version 1 is one line of JSON, a newline (byte 0x0A), then the body's bytes unchanged:
 *
 * ```text
 * {"v":1,"name":"send-email"}\n<body bytes>
 * ```
 *
 * Any language reads it by splitting at the first newline and parsing the JSON header. Readers
 * must refuse a header whose `v` they do not know, and ignore header fields they do not know.
 *
 * @module
 */

import { show } from "../src/_validate.ts";

/** The envelope version this module writes. */
export const ENVELOPE_VERSION = 1;

/** A decoded job envelope. */
export interface JobEnvelope {
  /** The job's name. */
  readonly name: string;
  /** The job's body. */
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const NEWLINE = 0x0a;
const headers = new Map<string, Uint8Array>();
const MAX_CACHED_HEADERS = 1024;

/**
 * Encodes a job's name and body into an envelope.
 *
 * @param name The job's name: a non-empty string.
 * @param body The job's body: bytes, or a string stored as UTF-8.
 * @returns The envelope bytes.
 * @throws {TypeError} If `name` is empty or not a string, or `body` is neither bytes nor a
 * string.
 *
 * @example Encoding and decoding
 * ```ts
 * import { decodeJob, encodeJob } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeJob("greet", "hi");
 * assert.equal(new TextDecoder().decode(bytes), '{"v":1,"name":"greet"}\nhi');
 * const job = decodeJob(bytes);
 * assert.equal(job.name, "greet");
 * assert.equal(new TextDecoder().decode(job.body), "hi");
 * ```
 */
export function encodeJob(name: string, body: Uint8Array | string): Uint8Array {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `Cannot create job as 'name' must be a non-empty string: current value is ${show(name)}`,
    );
  }
  let header = headers.get(name);
  if (header === undefined) {
    header = encoder.encode(JSON.stringify({ v: ENVELOPE_VERSION, name }) + "\n");
    if (headers.size >= MAX_CACHED_HEADERS) headers.clear();
    headers.set(name, header);
  }
  let bytes: Uint8Array;
  if (typeof body === "string") bytes = encoder.encode(body);
  else if (body instanceof Uint8Array) bytes = body;
  else {
    throw new TypeError(
      `Cannot create job as 'body' must be a Uint8Array or a string: current value is ${
        show(body)
      }`,
    );
  }
  const envelope = new Uint8Array(header.length + bytes.length);
  envelope.set(header);
  envelope.set(bytes, header.length);
  return envelope;
}

/**
 * Decodes an envelope.
 *
 * @param bytes A message body written by {@linkcode encodeJob} (or by any program that follows
 * the format).
 * @returns The job's name and body (a view into `bytes`).
 * @throws {SyntaxError} If `bytes` is not a version 1 envelope.
 *
 * @example Refusing something that is not a job
 * ```ts
 * import { decodeJob } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => decodeJob(new TextEncoder().encode("plain text")), SyntaxError);
 * ```
 */
export function decodeJob(bytes: Uint8Array): JobEnvelope {
  const end = bytes.indexOf(NEWLINE);
  if (end < 0) throw new SyntaxError("Cannot decode job as the envelope has no header line");
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(0, end)));
  } catch (error) {
    throw new SyntaxError("Cannot decode job as the envelope header is not JSON", {
      cause: error,
    });
  }
  const { v, name } = (header ?? {}) as { v?: unknown; name?: unknown };
  if (v !== ENVELOPE_VERSION) {
    throw new SyntaxError(
      `Cannot decode job as the envelope version must be ${ENVELOPE_VERSION}: current value is ${
        show(v)
      }`,
    );
  }
  if (typeof name !== "string" || name === "") {
    throw new SyntaxError(
      `Cannot decode job as the envelope name must be a non-empty string: current value is ${
        show(name)
      }`,
    );
  }
  return { name, body: bytes.subarray(end + 1) };
}
