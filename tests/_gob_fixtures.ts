/**
 * The gob fixtures in `tests/fixtures/gob/`: `cases.json`, written by Go (`gen.go`), and
 * `qite.json`, written by qite's encoder (`write_qite.ts`) and checked by Go. Bodies longer
 * than 4 KiB are a pattern (byte i is i % 251) cut out of the stored bytes at `bodyAt`.
 *
 * @module
 */

export { random } from "./_random.ts";
import { readFileSync } from "node:fs";

/** One case of `cases.json`: what Go's encoding/gob wrote, and what goqite's decoder read. */
export interface GoCase {
  readonly id: string;
  /** The Go type encoded. */
  readonly type: string;
  /** The value is goqite's own struct: qite's encoder must write exactly these bytes. */
  readonly goqite: boolean;
  /** Go's bytes, the body put back. */
  readonly gob: Uint8Array;
  /** What goqite's decoding call gave: a name and body, or an error. */
  readonly go: { readonly name: string; readonly body: Uint8Array; readonly error?: string };
  /** What qite's decoder must do. */
  readonly qite: "accepts" | "refuses";
  readonly why?: string;
}

/** One case of `qite.json`: a name and body, and what qite's encoder wrote for them. */
export interface QiteCase {
  readonly id: string;
  readonly name: string;
  readonly body: Uint8Array;
  readonly gob: Uint8Array;
}

/** Where the fixtures are. */
export const FIXTURES: URL = new URL("./fixtures/gob/", import.meta.url);

/** Bodies longer than this are the pattern, cut out of the stored bytes. */
export const INLINE_MAX = 4096;

/** The pattern body of `length` bytes: byte i is i % 251. */
export function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

/** Base64 to bytes. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Bytes to base64. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Puts a cut-out pattern body back into stored bytes. */
function restore(stored: Uint8Array, at: number, length: number): Uint8Array {
  if (length === 0) return stored;
  const bytes = new Uint8Array(stored.length + length);
  bytes.set(stored.subarray(0, at));
  bytes.set(pattern(length), at);
  bytes.set(stored.subarray(at), at + length);
  return bytes;
}

interface RawGoCase {
  id: string;
  type: string;
  goqite: boolean;
  gob: string;
  bodyAt?: number;
  bodyLength?: number;
  go: { name?: string; body?: string; error?: string };
  qite: "accepts" | "refuses";
  why?: string;
}

/** Reads `cases.json`. */
export function goCases(): GoCase[] {
  const file = JSON.parse(readFileSync(new URL("cases.json", FIXTURES), "utf8")) as {
    cases: RawGoCase[];
  };
  return file.cases.map((raw) => {
    const length = raw.bodyLength ?? 0;
    const go = {
      name: raw.go.name ?? "",
      body: length > 0 ? pattern(length) : fromBase64(raw.go.body ?? ""),
      ...(raw.go.error === undefined ? {} : { error: raw.go.error }),
    };
    return {
      id: raw.id,
      type: raw.type,
      goqite: raw.goqite,
      gob: restore(fromBase64(raw.gob), raw.bodyAt ?? 0, length),
      go,
      qite: raw.qite,
      ...(raw.why === undefined ? {} : { why: raw.why }),
    };
  });
}

interface RawQiteCase {
  id: string;
  name: string;
  body: string;
  bodyLength?: number;
  gob: string;
  bodyAt?: number;
}

/** Reads `qite.json`. */
export function qiteCases(): QiteCase[] {
  const file = JSON.parse(readFileSync(new URL("qite.json", FIXTURES), "utf8")) as {
    cases: RawQiteCase[];
  };
  return file.cases.map((raw) => {
    const length = raw.bodyLength ?? 0;
    return {
      id: raw.id,
      name: raw.name,
      body: length > 0 ? pattern(length) : fromBase64(raw.body),
      gob: restore(fromBase64(raw.gob), raw.bodyAt ?? 0, length),
    };
  });
}

/** Turns a case into its `qite.json` form, cutting a long body out. */
export function storeQiteCase(
  { id, name, body, gob }: QiteCase,
): Record<string, string | number> {
  if (body.length <= INLINE_MAX) return { id, name, body: toBase64(body), gob: toBase64(gob) };
  const at = gob.length - 1 - body.length; // the body ends just before the closing zero delta
  const stored = new Uint8Array(gob.length - body.length);
  stored.set(gob.subarray(0, at));
  stored.set(gob.subarray(at + body.length), at);
  return { id, name, body: "", bodyLength: body.length, gob: toBase64(stored), bodyAt: at };
}
