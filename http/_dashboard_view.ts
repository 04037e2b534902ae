/**
 * What the dashboard shows of a message or a name: JSON-ready views, with every character that
 * could hide or reorder text made visible. The page renders them as text nodes, never as HTML.
 *
 * @module
 */

import { decodeJob, decodeJobStart } from "../jobs/envelope.ts";
import type { MessageInfo, QueueStats } from "../src/message.ts";
import { codePointName, HIDDEN_CHARS } from "../src/_hidden_chars.ts";

/** A message as the dashboard's tables show it. */
export interface MessageView {
  readonly id: string;
  /** The priority as decimal text (it may be a 64-bit `bigint`). */
  readonly priority: string;
  readonly received: number;
  /** RFC 3339. */
  readonly created: string;
  /** When it becomes (or became) visible, RFC 3339. */
  readonly timeout: string;
  /** The body's size in bytes. */
  readonly size: number;
  /** The job's name, made visible, when the body decodes as a job. */
  readonly job: string | undefined;
  /** The start of the body (of the job's body, for a job): text, or hex for binary. */
  readonly preview: string;
  /** Whether `preview` is hex. */
  readonly binary: boolean;
  /** Whether the preview is shorter than the body. */
  readonly truncated: boolean;
}

/** A queue's counts, as the overview and the queue page show them. */
export interface StatsView {
  readonly total: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly dead: number;
  /** Milliseconds; `null` when nothing is visible. */
  readonly oldestVisibleAge: number | null;
}

/** Text previews show at most this many characters. */
const PREVIEW_CHARS = 120;
/** Binary previews show at most this many bytes. */
const PREVIEW_BYTES = 32;
/** Bytes decoded for a text preview: enough for PREVIEW_CHARS characters of any script. */
const PREVIEW_DECODE = PREVIEW_CHARS * 4;
/**
 * The bytes of each body the dashboard reads (`bodyBytes`): a preview's, after a job's name and
 * gob types. A queue of large messages then costs a page no more than small ones.
 */
export const VIEW_BODY_BYTES = 4096;

/** Characters shown as a visible stand-in rather than as themselves: see `HIDDEN_CHARS`. */
const HIDDEN = new RegExp(`\\r?\\n|[${HIDDEN_CHARS}]`, "gu");

/**
 * `text` with every control, format or invisible character (`HIDDEN_CHARS`) replaced by a visible
 * stand-in: a line break by `↵`, a tab by `⇥`, the others by `<U+XXXX>` (plain characters that
 * every font has, unlike the Control Pictures block).
 */
export function visibleText(text: string): string {
  return text.replace(HIDDEN, (char) => {
    if (char.endsWith("\n")) return "\u21b5";
    if (char === "\t") return "\u21e5";
    return codePointName(char);
  });
}

/** A message's view. */
export function messageView(message: MessageInfo): MessageView {
  let job: string | undefined;
  let content = message.body;
  // Whether the body was read only in part (`bodyBytes`).
  const cut = message.size > message.body.length;
  try {
    const decoded = cut ? decodeJobStart(message.body) : decodeJob(message.body);
    job = visibleText(decoded.name);
    content = decoded.body;
  } catch {
    // Not a job: show the body itself.
  }
  return {
    id: message.id,
    priority: String(message.priority),
    received: message.received,
    created: message.created.toISOString(),
    timeout: message.timeout.toISOString(),
    size: message.size,
    job,
    ...preview(content, cut),
  };
}

/**
 * The start of `bytes` as text when it is UTF-8, otherwise as hex; `cut` when `bytes` is itself
 * only the start of a body.
 */
export function preview(
  bytes: Uint8Array,
  cut = false,
): Pick<MessageView, "preview" | "binary" | "truncated"> {
  const head = bytes.subarray(0, PREVIEW_DECODE);
  const more = cut || head.length < bytes.length;
  let text: string;
  try {
    // `stream: true` keeps a character cut off at the end of `head` out of the result.
    text = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: more });
  } catch {
    const shown = bytes.subarray(0, PREVIEW_BYTES);
    return {
      preview: [...shown].map((byte) => byte.toString(16).padStart(2, "0")).join(" "),
      binary: true,
      truncated: cut || shown.length < bytes.length,
    };
  }
  const chars = [...text];
  const truncated = chars.length > PREVIEW_CHARS || more;
  return { preview: visibleText(chars.slice(0, PREVIEW_CHARS).join("")), binary: false, truncated };
}

/** A queue's stats as JSON. */
export function statsView(stats: QueueStats): StatsView {
  return {
    total: stats.total,
    visible: stats.visible,
    inFlight: stats.inFlight,
    delayed: stats.delayed,
    dead: stats.dead,
    oldestVisibleAge: stats.oldestVisibleAge ?? null,
  };
}
