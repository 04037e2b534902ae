/**
 * Helpers for the tests of the standalone server: start `http/cli.ts` as a child process of this
 * runtime, and speak raw HTTP/1.1 to it over a TCP socket.
 *
 * @module
 */

import { concatBytes } from "../src/_bytes.ts";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/runtime/detect.ts";
import { runtimeCommand, sleep, tempDir } from "./_helpers.ts";

const CLI = fileURLToPath(new URL("../http/cli.ts", import.meta.url));

/** A running `http/cli.ts`. */
export interface Started {
  /** The base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The TCP port. */
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  readonly output: () => string;
  /** The exit code (a SIGTERM on Deno counts as 0; see below). */
  readonly exited: Promise<number | null>;
}

/**
 * Starts the standalone server (http/cli.ts) with this runtime and waits for its URL line: with
 * flags and no command, or with `serve` first in `args`. On Deno it runs as `deno task serve`
 * does, with `--unstable-no-legacy-abort` unless `legacyAbort`; `env` adds to its environment.
 */
export async function startServer(
  args: string[],
  legacyAbort = false,
  env: Record<string, string> = {},
): Promise<Started> {
  const [exe, prefix] = runtimeCommand(CLI);
  const flags = detectRuntime() === "deno"
    ? ["run", "-A", ...(legacyAbort ? [] : ["--unstable-no-legacy-abort"]), CLI]
    : prefix;
  // `serve` first when it is given: the command, then the flags.
  const command = args[0] === "serve" ? ["serve"] : [];
  const child = spawn(exe, [...flags, ...command, "--port", "0", ...args.slice(command.length)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout!.on("data", (chunk) => output += chunk);
  child.stderr!.on("data", (chunk) => output += chunk);
  // Deno's node:child_process reports the signal it sent rather than the child's exit code
  // (exit 0 after SIGTERM shows as code null, signal SIGTERM), so that case counts as 0 here and
  // the child's "stopped" line is checked too.
  const exited = new Promise<number | null>((resolve) =>
    child.on(
      "exit",
      (code, signal) =>
        resolve(code ?? (detectRuntime() === "deno" && signal === "SIGTERM" ? 0 : null)),
    )
  );
  const started = Date.now();
  while (true) {
    const match = output.match(/at (http:\/\/[^ ]+)\/queues\/\{name\}/);
    if (match) {
      const url = match[1]!;
      return { url, port: Number(new URL(url).port), child, output: () => output, exited };
    }
    if (child.exitCode !== null || Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`the server did not start:\n${output}`);
    }
    await sleep(20);
  }
}

/** Runs `fn` with a started server on a fresh file, then stops it and removes the file. */
export async function withServer(
  args: string[],
  fn: (server: Started, path: string) => Promise<void>,
  legacyAbort = false,
): Promise<void> {
  const dir = tempDir();
  const path = join(dir, "served.db");
  const server = await startServer(["--db", path, ...args], legacyAbort);
  try {
    await fn(server, path);
  } finally {
    if (server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A response read off a socket, or how the socket ended without one. */
export interface RawAnswer {
  /** The status of the final (non-1xx) response; 0 when none came. */
  readonly status: number;
  /** Header names in lower case (the last value wins). */
  readonly headers: Record<string, string>;
  /** The body (de-chunked). */
  readonly body: string;
  /** Every byte received, as latin1 text. */
  readonly raw: string;
  /** Whether the server closed or reset the connection. */
  readonly closed: boolean;
  /** Whether the wait ran out with the connection still open and the response incomplete. */
  readonly timedOut: boolean;
}

/** Options for {@linkcode rawRequest}. */
export interface RawOptions {
  /** The longest wait for a whole response, in ms. */
  wait?: number;
  /** Sent in this many pieces, `pause` ms apart (slow clients). */
  pieces?: number;
  pause?: number;
  /** Half-closes the socket (sends FIN) after the last byte. */
  end?: boolean;
  /** Reads until the server closes the connection (for pipelined requests), not one response. */
  untilClose?: boolean;
}

/**
 * Sends raw bytes to `127.0.0.1:port` on a new connection and reads one response: until it is
 * complete (by Content-Length, chunked framing, or a status without a body), the server closes
 * the connection, or `wait` runs out. The socket is destroyed afterwards.
 */
export function rawRequest(
  port: number,
  bytes: string | Uint8Array,
  options: RawOptions = {},
): Promise<RawAnswer> {
  const { wait = 5000, pieces = 1, pause = 0, end = false, untilClose = false } = options;
  const data = typeof bytes === "string" ? latin1(bytes) : bytes;
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Uint8Array[] = [];
    let finished = false;
    const finish = (closed: boolean, timedOut: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(concat(chunks), closed, timedOut));
    };
    const timer = setTimeout(() => finish(false, true), wait);
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      if (!untilClose && complete(concat(chunks))) finish(false, false);
    });
    socket.on("error", () => finish(true, false));
    socket.on("close", () => finish(true, false));
    socket.on("connect", async () => {
      const size = Math.ceil(data.length / pieces);
      for (let offset = 0; offset < data.length && !finished; offset += size) {
        if (offset > 0 && pause > 0) await sleep(pause);
        if (!finished) socket.write(data.subarray(offset, offset + size));
      }
      if (end && !finished) socket.end();
    });
  });
}

/** Sends a well-formed request with `Connection: close` and reads the answer. */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string>; wait?: number } = {},
): Promise<RawAnswer> {
  const { body, headers = {}, wait } = options;
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const bodyBytes = body === undefined ? new Uint8Array(0) : new TextEncoder().encode(body);
  if (body !== undefined && !Object.keys(headers).some((n) => /^content-length$/i.test(n))) {
    lines.push(`Content-Length: ${bodyBytes.length}`);
  }
  const head = latin1(`${lines.join("\r\n")}\r\n\r\n`);
  return rawRequest(port, concat([head, bodyBytes]), wait === undefined ? {} : { wait });
}

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

const concat = concatBytes;

interface Head {
  status: number;
  headers: Record<string, string>;
  /** Where the body starts. */
  start: number;
}

/** The final response's head, skipping 1xx responses; undefined while incomplete. */
function head(text: string): Head | undefined {
  let offset = 0;
  while (true) {
    const end = text.indexOf("\r\n\r\n", offset);
    if (end < 0) return undefined;
    const lines = text.slice(offset, end).split("\r\n");
    const status = Number(lines[0]!.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? NaN);
    if (Number.isNaN(status)) return undefined;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    if (status >= 200) return { status, headers, start: end + 4 };
    offset = end + 4;
  }
}

/** The de-chunked body, or undefined while the chunked body is incomplete. */
function dechunk(text: string): string | undefined {
  let out = "";
  let offset = 0;
  while (true) {
    const lineEnd = text.indexOf("\r\n", offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(text.slice(offset, lineEnd), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return text.indexOf("\r\n\r\n", lineEnd) < 0 ? undefined : out;
    if (text.length < lineEnd + 2 + size + 2) return undefined;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    offset = lineEnd + 2 + size + 2;
  }
}

function bodyOf(text: string, h: Head): string | undefined {
  const rest = text.slice(h.start);
  if (h.status === 204 || h.status === 304) return "";
  if (/chunked/i.test(h.headers["transfer-encoding"] ?? "")) return dechunk(rest);
  const length = h.headers["content-length"];
  if (length !== undefined) {
    return rest.length >= Number(length) ? rest.slice(0, Number(length)) : undefined;
  }
  return undefined; // until the connection closes
}

function complete(bytes: Uint8Array): boolean {
  const text = toText(bytes);
  const h = head(text);
  return h !== undefined && bodyOf(text, h) !== undefined;
}

function toText(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

function parse(bytes: Uint8Array, closed: boolean, timedOut: boolean): RawAnswer {
  const raw = toText(bytes);
  const h = head(raw);
  if (h === undefined) return { status: 0, headers: {}, body: "", raw, closed, timedOut };
  const body = bodyOf(raw, h) ?? raw.slice(h.start);
  return { status: h.status, headers: h.headers, body, raw, closed, timedOut };
}
