/**
 * How the command line shows a message's body: bytes, shown as text when they are UTF-8 without
 * control characters, otherwise as hex, and saying which. For a job (goqite's format), the job's
 * name and the job's own body.
 *
 * @module
 */

import { decodeJob } from "../jobs/envelope.ts";

/** A body as the command line shows it. */
export interface ShownBody {
  /** The job's name, when the body decodes as a job. */
  readonly job: string | undefined;
  /** `text`: `body` is the bytes as text; `hex`: two lowercase hex digits per byte. */
  readonly format: "text" | "hex";
  /** The bytes (the job's body, for a job), as text or as hex. */
  readonly body: string;
}

/**
 * What counts as a control character here: C0 and C1 controls (line breaks and tabs too), DEL,
 * and the characters that hide or reorder text on a terminal (zero-width, direction-changing,
 * line and paragraph separators, the BOM).
 */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes` as text when they are UTF-8 without control characters, otherwise as hex. */
export function showBytes(bytes: Uint8Array): Pick<ShownBody, "format" | "body"> {
  try {
    const text = utf8.decode(bytes);
    if (!CONTROL.test(text)) return { format: "text", body: text };
  } catch {
    // Not UTF-8.
  }
  return {
    format: "hex",
    body: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

/** A message body: the job's name and body for a job, else the bytes. */
export function showBody(bytes: Uint8Array): ShownBody {
  try {
    const { name, body } = decodeJob(bytes);
    return { job: name, ...showBytes(body) };
  } catch {
    return { job: undefined, ...showBytes(bytes) };
  }
}

/** A name (of a queue or a job) safe to print: control characters as `<U+XXXX>`. */
export function safeText(text: string): string {
  return text.replace(
    new RegExp(CONTROL.source, "g"),
    (char) => `<U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`,
  );
}
