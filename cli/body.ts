/**
 * How the command line shows a message's body: bytes, shown as text when they are UTF-8 without
 * control characters, otherwise as hex, and saying which. For a job (goqite's format), the job's
 * name and the job's own body.
 *
 * @module
 */

import { decodeJob } from "../jobs/envelope.ts";
import { codePointName, HIDDEN_CHARS } from "../src/_hidden_chars.ts";

/** A body as the command line shows it. */
export interface ShownBody {
  /** The job's name, when the body decodes as a job. */
  readonly job: string | undefined;
  /** `text`: `body` is the bytes as text; `hex`: two lowercase hex digits per byte. */
  readonly format: "text" | "hex";
  /** The bytes (the job's body, for a job), as text or as hex. */
  readonly body: string;
}

/** What counts as a control character here: see `HIDDEN_CHARS`. */
const CONTROL = new RegExp(`[${HIDDEN_CHARS}]`, "u");
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
  return text.replace(new RegExp(CONTROL.source, "gu"), codePointName);
}
