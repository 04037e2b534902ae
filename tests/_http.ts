/**
 * Helpers for the HTTP tests: requests to a handler without a server.
 *
 * @module
 */

import type { Handler } from "../http/handler.ts";

/** What a test reads of a response. */
export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
}

/** Options for {@linkcode call}. */
export interface CallOptions {
  /** The path and query, e.g. `"/?timeout=50ms"`. */
  path?: string;
  /** A JSON value to send, or a raw string body. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls `handler` with one request and reads the whole answer. */
export async function call(
  handler: Handler,
  method: string,
  options: CallOptions = {},
): Promise<Answer> {
  const { path = "/", body, headers = {}, signal } = options;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  if (signal !== undefined) init.signal = signal;
  const response = await handler(new Request(`http://queue.test${path}`, init));
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, headers: response.headers, json };
}

/** Base64 of a string's UTF-8 bytes, as Go encodes a `[]byte`. */
export function b64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The string a base64 text holds. */
export function unb64(base64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}
