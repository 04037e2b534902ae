/**
 * The HTTP handler: goqite's wire format as a Web-standard `(Request) => Promise<Response>`.
 *
 * @module
 */

import { QueueError } from "../src/errors.ts";
import { describeError, log, type Logger } from "../src/logger.ts";
import type { Message, MessageId, MessageInfo, Receipt } from "../src/message.ts";
import { isDeadCursor, type Queue, queueOps } from "../src/sqlite/queue.ts";
import { MAX_DURATION_MS } from "../src/_time.ts";
import { checkInteger, checkSignal, show } from "../src/_validate.ts";
import { parseGoDuration } from "./_duration.ts";
import {
  decodeRequest,
  encodeBase64,
  goJson,
  WireError,
  type WireMessage,
  type WireRequest,
} from "./_wire.ts";

/** Options for {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * The largest message body, in bytes (after base64 decoding), that POST accepts; larger ones
   * get 413.
   *
   * @default {1048576}
   */
  maxBodySize?: number;
  /**
   * The largest request body, in bytes; a larger one gets 413 before it is read whole. By
   * default, room for one message of `maxBodySize` in base64 plus 64 KiB of JSON.
   *
   * @default {4 * Math.ceil(maxBodySize / 3) + 65536}
   */
  maxRequestSize?: number;
  /**
   * The most messages one batch request may send, receive, extend or delete.
   *
   * @default {1000}
   */
  maxBatchSize?: number;
  /**
   * Decides whether a request may touch the queue, before anything is read: `true` lets it
   * through, `false` answers 403, and a `Response` (say, a 401 with `WWW-Authenticate`) is sent
   * as it is. Whatever it throws (a `TypeError` too) is logged and answered with 500, without
   * its message.
   */
  authorize?: (request: Request) => boolean | Response | Promise<boolean | Response>;
  /** Where causes of 5xx answers are logged; silent by default. */
  logger?: Logger;
  /**
   * Ends every long poll at once (with 204) when it aborts, for a graceful shutdown.
   */
  signal?: AbortSignal;
  /**
   * The path the handler is mounted at, such as `"/queues/emails"` (or `"/"` for a router that
   * strips its prefix, like Hono's `mount`). Routes are then matched below it exactly
   * (`/queues/emails/stats`), and any other path gets 404. Without it, the route is read from
   * the last segments of the path, so a mount path that itself ends in a route name (`/stats`,
   * `/x/dead`) needs `basePath`.
   */
  basePath?: string;
}

/** A Web-standard request handler. */
export type Handler = (request: Request) => Promise<Response>;

/** The handler's routes below its mount point (`""` is goqite's own route). */
export type Route = "" | "stats" | "peek" | "dead" | "dead/count" | "dead/redrive" | "purge";

const ALLOWED: Readonly<Record<Route, readonly string[]>> = {
  "": ["GET", "POST", "PUT", "DELETE"],
  stats: ["GET"],
  peek: ["GET"],
  dead: ["GET", "DELETE"],
  "dead/count": ["GET"],
  "dead/redrive": ["POST"],
  purge: ["POST"],
};

/**
 * Methods the handler knows: one a route does not take gets 405 with `Allow`; any other method
 * (`TRACE`, `PROPFIND`, `FOO`, and lower-case spellings, since methods are case-sensitive) gets
 * 501, as Node's HTTP parser refuses most of them before any handler runs.
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
]);

/** The longest long poll goqite allows, in nanoseconds. */
const MAX_WAIT_NS = 20_000_000_000n;
const DEFAULT_INTERVAL_NS = 100_000_000n;
const NS_PER_MS = 1_000_000n;
const JSON_HEADERS = { "content-type": "application/json" };
const ACCEPTED_TYPES =
  /^(application\/([\w.+-]+\+)?json|text\/plain|application\/x-www-form-urlencoded)$/;

/** A handler's settings, validated, with the queue. */
export interface HandlerContext {
  readonly queue: Queue;
  readonly maxBodySize: number;
  readonly maxRequestSize: number;
  readonly maxBatchSize: number;
  readonly authorize: HandlerOptions["authorize"];
  readonly logger: Logger | undefined;
  readonly signal: AbortSignal | undefined;
  /** The mount path, percent-encoded, without a trailing slash (`""` for the root). */
  readonly basePath: string | undefined;
}

/**
 * Validates handler options.
 *
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If a number is out of range.
 */
export function handlerContext(queue: Queue, options: HandlerOptions): HandlerContext {
  const action = "create handler";
  if (typeof queue !== "object" || queue === null || typeof queue.receive !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'queue' must be a Queue: current value is ${show(queue)}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
    );
  }
  const { maxBodySize = 1024 * 1024, maxBatchSize = 1000, authorize, logger, signal } = options;
  checkInteger(action, "maxBodySize", maxBodySize, 0, 1_000_000_000);
  const { maxRequestSize = 4 * Math.ceil(maxBodySize / 3) + 65536 } = options;
  checkInteger(action, "maxRequestSize", maxRequestSize, 1);
  checkInteger(action, "maxBatchSize", maxBatchSize, 1);
  for (const [name, value] of [["authorize", authorize], ["logger", logger?.info]] as const) {
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `Cannot ${action} as '${name}' must be a function: current value is ${show(value)}`,
      );
    }
  }
  checkSignal(action, signal);
  const basePath = options.basePath === undefined
    ? undefined
    : normalizeBasePath(action, options.basePath);
  return { queue, maxBodySize, maxRequestSize, maxBatchSize, authorize, logger, signal, basePath };
}

/**
 * Checks a mount path and returns it percent-encoded as request URLs carry it, without the
 * trailing slash.
 *
 * @throws {TypeError} If it is not a string that starts with `/`.
 */
export function normalizeBasePath(action: string, value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/") || /[?#]/.test(value)) {
    throw new TypeError(
      `Cannot ${action} as 'basePath' must be a path that starts with "/": current value is ${
        show(value)
      }`,
    );
  }
  return new URL(value, "http://localhost").pathname.replace(/\/+$/, "");
}

/**
 * The part of `pathname` below `basePath`, without slashes at either end; `undefined` when the
 * path is not below it.
 */
export function below(pathname: string, basePath: string): string | undefined {
  if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
  return pathname.slice(basePath.length).split("/").filter((s) => s !== "").join("/");
}

/**
 * Creates an HTTP handler for a queue that speaks goqite's wire format: `GET` receives (with
 * `?timeout=` for a long poll, up to 20 s), `POST` sends, `PUT` extends, `DELETE` deletes, with
 * goqite's JSON (`{"Message":{"ID","Body","Delay","Priority"}}`, base64 bodies, nanosecond
 * delays). Beyond goqite: batches (`Messages` instead of `Message`, `?max=` on GET), fenced
 * extend and delete (`Received`), and the sub-paths `stats`, `peek`, `dead`, `dead/count`,
 * `dead/redrive` and `purge` below the mount point. See the module documentation for the whole
 * contract.
 *
 * It is a plain `(request: Request) => Promise<Response>`, so it mounts in `Deno.serve`,
 * `Bun.serve` or any fetch-style router as it is; `toNodeListener` adapts it to `node:http`.
 * Give the mount path as `basePath` so that routes are matched below it (required when the
 * mount path ends with one of the sub-path names above, such as `/stats`).
 *
 * @param queue The queue to serve.
 * @param options Limits, authorization, logging and a shutdown signal.
 * @returns The handler.
 * @throws {TypeError} If `queue` is not a queue or an option has the wrong type.
 * @throws {RangeError} If a limit is out of range.
 *
 * @example Sending and receiving through the handler, without a server
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import { createHandler } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const handler = createHandler(new Queue({ db, name: "emails" }));
 *
 * const sent = await handler(
 *   new Request("http://localhost/", {
 *     method: "POST",
 *     body: JSON.stringify({ Message: { Body: btoa("hello") } }),
 *   }),
 * );
 * assert.equal(sent.status, 200);
 *
 * const received = await handler(new Request("http://localhost/"));
 * const { Message } = await received.json();
 * assert.equal(atob(Message.Body), "hello");
 * assert.equal((await handler(new Request("http://localhost/"))).status, 204);
 * ```
 *
 * @example Mounting it under a path in a server
 * ```ts ignore
 * import { open, Queue, setup } from "@qite/qite";
 * import { createHandler, toNodeListener } from "@qite/qite/http";
 *
 * const db = open("app.db");
 * setup(db);
 * const emails = createHandler(new Queue({ db, name: "emails" }), {
 *   basePath: "/api/emails",
 *   authorize: (request) => request.headers.get("authorization") === "Bearer s3cret",
 * });
 * const app = (request: Request): Promise<Response> =>
 *   new URL(request.url).pathname.startsWith("/api/emails")
 *     ? emails(request)
 *     : Promise.resolve(new Response("not found", { status: 404 }));
 *
 * Deno.serve({ port: 8080 }, app);
 * // Bun.serve({ port: 8080, fetch: app });
 * // (await import("node:http")).createServer(toNodeListener(app)).listen(8080);
 * // Hono: app.all("/api/emails/*", (c) => emails(c.req.raw)), or, since mount() strips the
 * // prefix, app.mount("/api/emails", createHandler(queue, { basePath: "/" }))
 * ```
 */
export function createHandler(queue: Queue, options: HandlerOptions = {}): Handler {
  const context = handlerContext(queue, options);
  const { basePath } = context;
  return (request: Request): Promise<Response> => {
    let pathname: string;
    try {
      pathname = urlOf(request).pathname;
    } catch (error) {
      return Promise.resolve(failure(context, request, error));
    }
    if (basePath === undefined) return handleRequest(context, request, routeOf(pathname));
    const rest = below(pathname, basePath);
    if (rest !== undefined && Object.hasOwn(ALLOWED, rest)) {
      return handleRequest(context, request, rest as Route);
    }
    return Promise.resolve(
      notImplemented(request.method) ?? text(404, `not found: no route at ${pathname}`),
    );
  };
}

/**
 * The request's URL. Some servers pass on a URL that does not parse (Bun, given `Host: a b`);
 * that is the client's mistake, so it is a `WireError` (400).
 */
export function urlOf(request: Request): URL {
  try {
    return new URL(request.url);
  } catch {
    throw new WireError("bad request: the URL (or the Host header) does not parse");
  }
}

/** The route a path ends with (`""` for goqite's own), when there is no `basePath`. */
function routeOf(pathname: string): Route {
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const last = segments[segments.length - 1];
  const previous = segments[segments.length - 2];
  if (previous === "dead" && (last === "count" || last === "redrive")) return `dead/${last}`;
  if (last === "stats" || last === "peek" || last === "dead" || last === "purge") return last;
  return "";
}

/**
 * Answers one request on a known route; what every entry point (handler, server) calls.
 *
 * @param context The handler's settings and queue.
 * @param request The request.
 * @param route The route below the mount point.
 * @returns The response; it never rejects.
 */
export async function handleRequest(
  context: HandlerContext,
  request: Request,
  route: Route,
): Promise<Response> {
  const method = request.method;
  const unknown = notImplemented(method);
  if (unknown !== undefined) return unknown;
  try {
    const refused = await authorize(context, request);
    if (refused !== undefined) return refused;
    const allowed = ALLOWED[route];
    if (method === "OPTIONS") {
      return new Response(null, { status: 204, headers: { allow: allowed.join(", ") } });
    }
    if (!allowed.includes(method)) {
      return text(405, `method ${method} is not allowed here`, { allow: allowed.join(", ") });
    }
    return await dispatch(context, request, route, method);
  } catch (error) {
    return failure(context, request, error);
  }
}

/** 501 for a method the handler does not know, else `undefined`. */
export function notImplemented(method: string): Response | undefined {
  return KNOWN_METHODS.has(method) ? undefined : text(501, `method ${method} is not implemented`);
}

/**
 * Runs the `authorize` hook: `undefined` lets the request through, otherwise the answer to send
 * (403 for `false`). What the hook throws is thrown.
 */
export async function authorize(
  context: HandlerContext,
  request: Request,
): Promise<Response | undefined> {
  if (context.authorize === undefined) return undefined;
  const verdict = await context.authorize(request);
  if (verdict instanceof Response) return verdict;
  return verdict === true ? undefined : text(403, "forbidden");
}

function dispatch(
  context: HandlerContext,
  request: Request,
  route: Route,
  method: string,
): Promise<Response> | Response {
  const { queue } = context;
  const params = urlOf(request).searchParams;
  switch (`${method} ${route}`) {
    case "GET ":
      return receive(context, request, params);
    case "POST ":
      return withBody(context, request, false, (body) => send(context, body));
    case "PUT ":
      return withBody(context, request, false, (body) => extend(context, body));
    case "DELETE ":
      return withBody(context, request, false, (body) => remove(context, body));
    case "GET stats":
      return queue.stats().then((stats) =>
        json({
          Total: stats.total,
          Visible: stats.visible,
          InFlight: stats.inFlight,
          Delayed: stats.delayed,
          Dead: stats.dead,
          OldestVisibleAge: stats.oldestVisibleAge === undefined
            ? null
            : stats.oldestVisibleAge * 1_000_000,
        })
      );
    case "GET peek":
      return queue.peek({ limit: limitParam(params, "limit", 10, context.maxBatchSize) })
        .then((messages) => json({ Messages: messages.map(toInfoJson) }));
    case "GET dead": {
      const cursor = params.get("cursor") ?? undefined;
      if (cursor !== undefined && !isDeadCursor(cursor)) {
        throw new WireError(
          `cursor must be a Cursor from a previous page: current value is ${cursor}`,
        );
      }
      const limit = limitParam(params, "limit", 100, context.maxBatchSize);
      return queue.listDead({ limit, cursor }).then((page) =>
        json({ Messages: page.messages.map(toInfoJson), Cursor: page.cursor ?? null })
      );
    }
    case "GET dead/count":
      return queue.countDead().then((count) => json({ Count: count }));
    case "POST dead/redrive":
      return withBody(context, request, true, async (body) => {
        if (body.message !== undefined || body.messages !== undefined) {
          throw new WireError("a redrive takes IDs (a list of message ids), or nothing for all");
        }
        return json({ Count: await queue.redrive(body.ids) });
      });
    case "DELETE dead":
      return queue.purgeDead().then((count) => json({ Count: count }));
    default: // POST purge
      return queue.purge().then((count) => json({ Count: count }));
  }
}

/** GET: goqite's receive and long poll, and qite's batch receive (`?max=`). */
async function receive(
  context: HandlerContext,
  request: Request,
  params: URLSearchParams,
): Promise<Response> {
  const { queue } = context;
  const batch = params.has("max");
  const max = batch ? limitParam(params, "max", 1, context.maxBatchSize) : 1;
  const timeoutText = params.get("timeout") ?? "";
  let messages: Message[];
  if (timeoutText === "") {
    messages = batch ? await queue.receiveBatch(max) : [await queue.receive()].filter(isMessage);
  } else {
    const timeout = duration(timeoutText, "timeout");
    if (timeout <= 0n || timeout > MAX_WAIT_NS) {
      throw new WireError("timeout must be between 0 (exclusive) and 20 (inclusive) seconds");
    }
    let interval = timeout < DEFAULT_INTERVAL_NS ? timeout : DEFAULT_INTERVAL_NS;
    const intervalText = params.get("interval") ?? "";
    if (intervalText !== "") {
      interval = duration(intervalText, "interval");
      if (interval <= 0n || interval > timeout) {
        throw new WireError("interval must be between 0 (exclusive) and timeout (inclusive)");
      }
    }
    const received = await longPoll(context, request, max, timeout, interval);
    if (received === undefined) return new Response(null, { status: 204 });
    messages = received;
  }
  if (messages.length === 0) return new Response(null, { status: 204 });
  if (request.signal.aborted) {
    // The client is gone: hand the messages back rather than hide them for a whole timeout.
    release(context, messages);
    return new Response(null, { status: 204 });
  }
  if (batch) return json({ Messages: messages.map(toMessageJson) });
  const [message] = messages as [Message];
  return new Response(
    goJson({
      Message: {
        ID: message.id,
        Body: encodeBase64(message.body),
        Delay: 0,
        Priority: message.priority,
      },
    }),
    { headers: { ...JSON_HEADERS, "qite-received": String(message.received) } },
  );
}

/** Waits up to `timeout` for messages; `undefined` when the wait ended without any. */
async function longPoll(
  context: HandlerContext,
  request: Request,
  max: number,
  timeout: bigint,
  interval: bigint,
): Promise<Message[] | undefined> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  const timer = setTimeout(stop, Number((timeout + NS_PER_MS - 1n) / NS_PER_MS));
  const signals = [request.signal, context.signal].filter((s): s is AbortSignal => s !== undefined);
  for (const signal of signals) {
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
  }
  try {
    const options = { signal: controller.signal, interval: Number(interval) / 1e6 };
    return await context.queue.receiveBatchAndWait(max, options);
  } catch (error) {
    if (controller.signal.aborted) return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
    for (const signal of signals) signal.removeEventListener("abort", stop);
  }
}

/** POST: goqite's send, and qite's batch send (`Messages`). */
async function send(context: HandlerContext, body: WireRequest): Promise<Response> {
  const { queue } = context;
  // The queue has its own limit; the smaller one decides, so that the queue never refuses a body.
  const maxBodySize = Math.min(context.maxBodySize, queue.maxBodySize);
  const outgoing = (entry: WireMessage, where: string) => {
    if (!entry.hasBody) throw new WireError(`Body is missing${where}`);
    if (entry.delay !== undefined && entry.delay < 0n) {
      throw new WireError(`delay cannot be negative${where}`);
    }
    const bytes = entry.body ?? new Uint8Array(0);
    if (bytes.length > maxBodySize) {
      throw new WireError(
        `Body must be at most ${maxBodySize} bytes${where}: current size is ${bytes.length}`,
        413,
      );
    }
    return {
      body: bytes,
      delay: toMilliseconds(entry.delay ?? 0n, `Delay${where}`),
      priority: toPriority(entry.priority, where),
    };
  };
  if (body.messages !== undefined) {
    const entries = batchOf(context, body);
    const ids = await queue.sendBatch(entries.map((entry, i) => outgoing(entry, entryAt(i))));
    return json({ IDs: ids });
  }
  const message = single(body, "a message to send");
  const id = await queue.send(outgoing(message, ""));
  return new Response(null, { status: 200, headers: { "qite-message-id": id } });
}

/** PUT: goqite's extend, fenced with `Received`, and qite's batch extend. */
async function extend(context: HandlerContext, body: WireRequest): Promise<Response> {
  const { queue } = context;
  const parse = (entry: WireMessage, where: string): [MessageId | Receipt, number] => {
    const target = targetOf(entry, where);
    if (entry.delay === undefined || entry.delay <= 0n) {
      throw new WireError(`delay must larger than zero${where}`);
    }
    return [target, toMilliseconds(entry.delay, `Delay${where}`)];
  };
  if (body.messages !== undefined) {
    const entries = batchOf(context, body).map((entry, i) => parse(entry, entryAt(i)));
    const results = queue.transaction((tx) =>
      entries.map(([target, delay]) => tx.extend(target, delay))
    );
    return json({ Results: results });
  }
  const [target, delay] = parse(single(body, "the message to extend"), "");
  return applied(await queue.extend(target, delay), target);
}

/** DELETE: goqite's delete, fenced with `Received`, and qite's batch delete. */
async function remove(context: HandlerContext, body: WireRequest): Promise<Response> {
  const { queue } = context;
  if (body.messages !== undefined) {
    const targets = batchOf(context, body).map((entry, i) => targetOf(entry, entryAt(i)));
    return json({ Results: await queue.deleteBatch(targets) });
  }
  const target = targetOf(single(body, "the message to delete"), "");
  return applied(await queue.delete(target), target);
}

/** 200 with `Qite-Applied`, or 409 when a fenced operation found another delivery. */
function applied(done: boolean, target: MessageId | Receipt): Response {
  if (!done && typeof target === "object") {
    return text(409, "the message is no longer held by this delivery (Received)");
  }
  return new Response(null, { status: 200, headers: { "qite-applied": String(done) } });
}

function single(body: WireRequest, what: string): WireMessage {
  if (body.message === undefined) {
    throw new WireError(`Message is missing: the request must be {"Message": …} with ${what}`);
  }
  return body.message;
}

function batchOf(context: HandlerContext, body: WireRequest): WireMessage[] {
  const entries = body.messages!;
  if (body.message !== undefined) {
    throw new WireError("give either Message or Messages, not both");
  }
  if (entries.length > context.maxBatchSize) {
    throw new WireError(
      `Messages must hold at most ${context.maxBatchSize} entries: current count is ${entries.length}`,
    );
  }
  return entries;
}

function entryAt(i: number): string {
  return ` (Messages[${i}])`;
}

function targetOf(entry: WireMessage, where: string): MessageId | Receipt {
  if (entry.id === undefined || entry.id === "") throw new WireError(`ID cannot be empty${where}`);
  if (entry.received === undefined) return entry.id;
  if (entry.received < 1n || entry.received > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WireError(`Received must be a receive count >= 1${where}`);
  }
  return { id: entry.id, received: Number(entry.received) };
}

/** Nanoseconds to whole milliseconds, rounding up so that a positive delay stays positive. */
function toMilliseconds(ns: bigint, field: string): number {
  const ms = (ns + NS_PER_MS - 1n) / NS_PER_MS;
  if (ms > BigInt(MAX_DURATION_MS)) {
    throw new WireError(`${field} must be at most 100 years: current value is ${ns} ns`);
  }
  return Number(ms);
}

function toPriority(priority: bigint | undefined, where: string): number {
  if (priority === undefined) return 0;
  if (priority < BigInt(Number.MIN_SAFE_INTEGER) || priority > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WireError(`Priority must be a safe integer (±2^53 − 1)${where}`);
  }
  return Number(priority);
}

function duration(value: string, name: string): bigint {
  try {
    return parseGoDuration(value);
  } catch (error) {
    throw new WireError(`error parsing ${name} parameter: ${(error as Error).message}`);
  }
}

function limitParam(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const value = params.get(name);
  if (value === null || value === "") return fallback;
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) {
    throw new WireError(`${name} must be an integer from 1 to ${max}: current value is ${value}`);
  }
  return n;
}

/** Reads and decodes a request body within the size limit, then runs `fn` on it. */
async function withBody(
  context: HandlerContext,
  request: Request,
  allowEmpty: boolean,
  fn: (body: WireRequest) => Promise<Response>,
): Promise<Response> {
  const type = request.headers.get("content-type");
  if (type !== null && !ACCEPTED_TYPES.test(type.split(";")[0]!.trim().toLowerCase())) {
    await request.body?.cancel().catch(() => {});
    return text(415, `Content-Type must be application/json: current value is ${type}`);
  }
  const bytes = await readBody(request, context.maxRequestSize);
  if (bytes === undefined) {
    return text(413, `the request body must be at most ${context.maxRequestSize} bytes`);
  }
  return fn(decodeRequest(bytes, allowEmpty));
}

/** Reads the body, or returns `undefined` (having stopped reading) when it exceeds `limit`. */
async function readBody(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > limit) {
    await request.body?.cancel().catch(() => {});
    return undefined;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } catch (error) {
    throw new WireError(`error reading request: ${describeError(error)}`);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Hands messages back uncounted (the client that asked for them is gone). */
function release(context: HandlerContext, messages: readonly Message[]): void {
  try {
    queueOps(context.queue).release(messages, 0);
  } catch (error) {
    log(context.logger, "Cannot hand back messages of a client that went away", {
      queue: context.queue.name,
      error: describeError(error),
    });
  }
}

/**
 * Turns a thrown error into a response. Only qite's own checks of the request (a `WireError`)
 * answer 4xx with their message; anything else, a `TypeError` from the `authorize` hook included,
 * is a 5xx without detail, and the cause goes to the logger.
 */
export function failure(context: HandlerContext, request: Request, error: unknown): Response {
  if (error instanceof WireError) return text(error.status, error.message);
  const busy = error instanceof QueueError &&
    (error.code === "BUSY" || error.code === "LOCKED" || error.code === "CLOSED");
  log(context.logger, "Cannot answer a queue request", {
    queue: context.queue.name,
    method: request.method,
    url: request.url,
    error: describeError(error),
    ...(error instanceof QueueError ? { code: error.code } : {}),
  });
  return busy
    ? text(503, "the queue is unavailable; try again", { "retry-after": "1" })
    : text(500, "internal server error");
}

function toMessageJson(message: Message): Record<string, unknown> {
  return {
    ID: message.id,
    Body: encodeBase64(message.body),
    Delay: 0,
    Priority: message.priority,
    Received: message.received,
  };
}

function toInfoJson(message: MessageInfo): Record<string, unknown> {
  return {
    ...toMessageJson(message),
    Created: message.created.toISOString(),
    Timeout: message.timeout.toISOString(),
  };
}

function isMessage(message: Message | undefined): message is Message {
  return message !== undefined;
}

function json(value: unknown): Response {
  return new Response(goJson(value), { headers: JSON_HEADERS });
}

/** A plain-text answer, as Go's `http.Error` writes it. */
export function text(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${message}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}
