/**
 * How a job's name and body are stored in a message body: goqite's format, so Go (goqite) and
 * qite producers and runners share one queue.
 *
 * A job is the Go `encoding/gob` stream of one value of
 *
 * ```go
 * type message struct {
 * 	Name    string
 * 	Message []byte
 * }
 * ```
 *
 * written with a fresh encoder per job: the definition of that type, then the value. This is
 * what goqite's `jobs.Create` stores and its runner reads. {@linkcode encodeJob} writes exactly
 * the bytes Go writes; {@linkcode decodeJob} also reads a struct of another type name or field
 * order, and skips extra fields of basic types and of arrays, slices, maps and structs of them
 * (but not interface values), as Go's decoder ignores fields it does not want.
 *
 * {@linkcode decodeJob} still reads the JSON envelope that earlier versions of qite wrote, so
 * their jobs still run: one line of JSON, a newline, then the body's bytes unchanged:
 *
 * ```text
 * {"v":1,"name":"send-email"}\n<body bytes>
 * ```
 *
 * The two cannot be confused: a message body that starts with `{` and then `"` or a JSON space
 * is read as JSON, and no gob stream of a job starts that way (its second byte would be a type
 * id of gob's own, which a job never has).
 *
 * @module
 */

import { show } from "../src/_validate.ts";
import { decodeGob, decodeGobStart, encodeGob } from "./_gob.ts";

/** A decoded job. */
export interface JobEnvelope {
  /** The job's name. */
  readonly name: string;
  /** The job's body. */
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
/** The bytes after `{` that mark the JSON envelope: `"`, space, tab, newline, carriage return. */
const JSON_SECOND_BYTES = new Set([0x22, 0x20, 0x09, 0x0a, 0x0d]);
const LEGACY_VERSION = 1;

/**
 * Encodes a job's name and body as goqite does: the bytes of Go's
 * `gob.NewEncoder(w).Encode(message{Name: name, Message: body})`.
 *
 * @param name The job's name: a non-empty string (stored as UTF-8, so it must not hold a lone
 * surrogate).
 * @param body The job's body: bytes, or a string stored as UTF-8.
 * @returns The gob bytes.
 * @throws {TypeError} If `name` is empty, not a string or not well-formed, or `body` is
 * neither bytes nor a string.
 *
 * @example Encoding and decoding
 * ```ts
 * import { decodeJob, encodeJob } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeJob("greet", "hi");
 * // Go's gob: a 42-byte type definition, then the value: type 64, Name "greet", Message "hi".
 * assert.equal(bytes.length, 57);
 * assert.deepEqual([...bytes.subarray(42)], [
 *   0x0e, 0xff, 0x80, 0x01, 0x05, ...new TextEncoder().encode("greet"),
 *   0x01, 0x02, ...new TextEncoder().encode("hi"), 0x00,
 * ]);
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
  if (!name.isWellFormed()) {
    throw new TypeError(
      `Cannot create job as 'name' must not hold a lone surrogate: current value is ${show(name)}`,
    );
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
  return encodeGob(name, bytes);
}

/**
 * Decodes a job: goqite's gob format, or the JSON envelope of earlier qite versions.
 *
 * @param bytes A message body written by {@linkcode encodeJob}, by goqite, or by any program
 * that gob-encodes a struct with the fields `Name` and `Message`.
 * @returns The job's name and body (a view into `bytes`).
 * @throws {TypeError} If `bytes` is not a Uint8Array.
 * @throws {SyntaxError} If `bytes` is not a job, or its name is empty.
 *
 * @example Reading goqite's jobs, and the old JSON envelope
 * ```ts
 * import { decodeJob, encodeJob } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeJob(encodeJob("greet", "hi")).name, "greet");
 *
 * const old = decodeJob(new TextEncoder().encode('{"v":1,"name":"greet"}\nhi'));
 * assert.equal(old.name, "greet");
 * assert.equal(new TextDecoder().decode(old.body), "hi");
 *
 * assert.throws(() => decodeJob(new TextEncoder().encode("plain text")), SyntaxError);
 * ```
 */
export function decodeJob(bytes: Uint8Array): JobEnvelope {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot decode job as 'bytes' must be a Uint8Array: current value is ${show(bytes)}`,
    );
  }
  return decodeWith(bytes, decodeGob);
}

/**
 * Decodes the start of a job, whose body was read only in part (`bodyBytes`), as
 * {@linkcode decodeJob} decodes a whole one: the name, and what there is of the body. Not
 * exported from the package: the dashboard's view uses it.
 *
 * @throws {SyntaxError} If `bytes` is not the start of a job, or ends before its name.
 */
export function decodeJobStart(bytes: Uint8Array): JobEnvelope {
  return decodeWith(bytes, decodeGobStart);
}

/** The JSON envelope of earlier versions, or else gob read by `gob`; a name is required. */
function decodeWith(bytes: Uint8Array, gob: (bytes: Uint8Array) => JobEnvelope): JobEnvelope {
  const job = bytes[0] === OPEN_BRACE && JSON_SECOND_BYTES.has(bytes[1]!)
    ? decodeLegacy(bytes)
    : gob(bytes);
  if (job.name === "") throw new SyntaxError("Cannot decode job as its name is empty");
  return job;
}

/** Decodes the JSON envelope of earlier qite versions. */
function decodeLegacy(bytes: Uint8Array): JobEnvelope {
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
  if (v !== LEGACY_VERSION) {
    throw new SyntaxError(
      `Cannot decode job as the envelope version must be ${LEGACY_VERSION}: current value is ${
        show(v)
      }`,
    );
  }
  if (typeof name !== "string") {
    throw new SyntaxError(
      `Cannot decode job as the envelope name must be a string: current value is ${show(name)}`,
    );
  }
  return { name, body: bytes.subarray(end + 1) };
}
