/**
 * A Web-standard handler as a `node:http` request listener, and the answers to requests that
 * Node's HTTP parser refuses before any listener runs.
 *
 * It does not use `Readable.toWeb` for request bodies: on Node ≤ 24 that adapter leaves its
 * `data` listener attached when the web stream is cancelled, and a chunk already buffered is then
 * enqueued into the closed stream, an uncaught `ERR_INVALID_STATE` that ends the process
 * (nodejs/node#54205). A handler that refuses a body without reading it (415, 413) cancels it.
 *
 * @module
 */

import { concatBytes } from "../_bytes.ts";

/** The parts of `http.IncomingMessage` the listener uses. */
export interface NodeIncomingMessage {
  /** The request method, as the client sent it. */
  readonly method?: string | undefined;
  /** The request target, e.g. `/queues/q?timeout=1s`. */
  readonly url?: string | undefined;
  /** Header names and values, alternating, as they arrived. */
  readonly rawHeaders: string[];
  /** Adds a listener. */
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  /** Adds a listener. */
  on(event: "end" | "close", listener: () => void): unknown;
  /** Adds a listener. */
  on(event: "error", listener: (error: Error) => void): unknown;
  /** Removes a listener. */
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  /** Removes a listener. */
  off(event: "end" | "close", listener: () => void): unknown;
  /** Removes a listener. */
  off(event: "error", listener: (error: Error) => void): unknown;
  /** Stops the flow of `data` events. */
  pause(): unknown;
  /** Starts the flow of `data` events. */
  resume(): unknown;
}

/** The parts of `http.ServerResponse` the listener uses. */
export interface NodeServerResponse {
  /** Whether the whole response has been handed to the socket. */
  readonly writableFinished: boolean;
  /** Whether the response (or its connection) was destroyed. */
  readonly destroyed: boolean;
  /** Adds a listener. */
  on(event: "close", listener: () => void): unknown;
  /** Adds a one-time listener. */
  once(event: "close" | "drain", listener: () => void): unknown;
  /** Removes a listener. */
  off(event: "close" | "drain", listener: () => void): unknown;
  /** Writes the status line and headers. */
  writeHead(status: number, headers: string[]): unknown;
  /** Sends `100 Continue`. */
  writeContinue(): void;
  /** Writes a piece of the body; `false` asks to wait for `drain`. */
  write(chunk: Uint8Array): boolean;
  /** Ends the response, with a last piece of the body (a string is written as UTF-8). */
  end(chunk?: Uint8Array | string): unknown;
  /** Ends the connection at once. */
  destroy(): unknown;
}

/** A `node:http` request listener. */
export type NodeListener = (request: NodeIncomingMessage, response: NodeServerResponse) => void;

/** Options for {@linkcode toNodeListener}. */
export interface NodeListenerOptions {
  /**
   * The `host:port` for request URLs when a request has no `Host` header (HTTP/1.0).
   *
   * @default {"localhost"}
   */
  host?: string;
  /**
   * Whether requests arrive through the server's `checkContinue` event: `100 Continue` is then
   * sent only when the handler starts reading the body, so a body refused unread is never sent.
   *
   * @default {false}
   */
  expectContinue?: boolean;
}

/** Methods that the `Request` constructor refuses (fetch's forbidden methods). */
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Adapts a Web-standard handler to `node:http`: `http.createServer(toNodeListener(handler))`.
 * The request's `signal` aborts when the client goes away before the answer is sent; a body the
 * handler cancels unread is discarded as it arrives, which keeps the connection usable. A method
 * that a `Request` cannot carry (`CONNECT`, `TRACE`, `TRACK`) gets 501, and a request that cannot
 * be turned into a `Request` (say, a bad `Host`) gets 400. What the handler throws gets 500.
 *
 * @param handler Answers each request.
 * @param options The fallback host and `Expect: 100-continue` handling.
 * @returns The listener.
 *
 * @example Mounting a queue's handler in node:http
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { open, Queue, setup } from "@qite/qite";
 * import { createHandler, toNodeListener } from "@qite/qite/http";
 *
 * const db = open("app.db");
 * setup(db);
 * const handler = createHandler(new Queue({ db, name: "emails" }), { basePath: "/emails" });
 * createServer(toNodeListener(handler)).listen(8080);
 * ```
 */
export function toNodeListener(
  handler: (request: Request) => Promise<Response>,
  options: NodeListenerOptions = {},
): NodeListener {
  return nodeListener(handler, options, undefined);
}

/** An answer a fast route writes to `node:http` directly, without a `Response`. */
export interface FastAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body, or `null` for none. */
  readonly body: string | null;
}

/** The methods of the fast routes: goqite's send, receive and delete. */
export type FastMethod = "POST" | "GET" | "DELETE";

/** Answers a request on a fast route, given its whole body; it never rejects. */
export type FastRoute = (body: Uint8Array, gone: () => boolean) => Promise<FastAnswer>;

/**
 * Picks a fast route for a request from its method, its URL (as the `Request` would have it) and
 * its Content-Type (`undefined` when it has none), or `undefined` for the
 * Web-standard path. The listener asks only about
 * requests with no `Transfer-Encoding`, no `Expect` and at most one Content-Type, and reads a
 * POST's or DELETE's body only when it has a Content-Length within `maxBody`.
 */
export interface FastRoutes {
  route(method: FastMethod, url: URL, contentType: string | undefined): FastRoute | undefined;
  /** The largest body a fast route reads; a larger one takes the Web-standard path. */
  readonly maxBody: number;
}

/**
 * {@linkcode toNodeListener}, with `fast`: requests that it routes skip `Request` and `Response`
 * (the standalone server's hot routes on Node, where building those costs more than the queue).
 */
export function nodeListener(
  handler: (request: Request) => Promise<Response>,
  options: NodeListenerOptions,
  fast: FastRoutes | undefined,
): NodeListener {
  const { host = "localhost", expectContinue = false } = options;
  const serveOne = (req: NodeIncomingMessage, res: NodeServerResponse): Promise<void> => {
    if (fast !== undefined) {
      const route = fastRouteOf(req, fast, host);
      if (route !== undefined) return answerFast(req, res, route);
    }
    return answer(req, res, handler, host, expectContinue);
  };
  // Node hands over pipelined requests as it parses them, and would run them at once: a receive
  // sent after a send could then run first. Each connection's requests run one after the other,
  // as they do on Deno and Bun (a request that arrives alone runs at once).
  const lines = new WeakMap<object, { busy: number; tail: Promise<void> }>();
  return (req, res) => {
    const socket = (req as { socket?: object }).socket ?? res;
    let line = lines.get(socket);
    if (line === undefined) lines.set(socket, line = { busy: 0, tail: Promise.resolve() });
    const current = line;
    const run = (): Promise<void> =>
      serveOne(req, res).catch(() => {}).finally(() => {
        current.busy--;
      });
    current.busy++;
    current.tail = current.busy === 1 ? run() : current.tail.then(run);
  };
}

/**
 * The URL of a request as Deno and Bun build it: a target that starts with `/` is a path (also
 * `//h/queues/q`, which `new URL` alone would read as the host `h`), any other is read against
 * the host (an absolute one keeps its own).
 */
function requestUrl(target: string, host: string): URL {
  const origin = `http://${host}`;
  return target.startsWith("/") ? new URL(`${origin}${target}`) : new URL(target, origin);
}

/** The fast route for `req`, when it is eligible (see {@linkcode FastRoutes}). */
function fastRouteOf(
  req: NodeIncomingMessage,
  fast: FastRoutes,
  fallbackHost: string,
): FastRoute | undefined {
  const method = req.method ?? "GET";
  if (method !== "POST" && method !== "GET" && method !== "DELETE") return undefined;
  let type: string | undefined;
  let length: string | undefined;
  let host: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === "content-type") {
      if (type !== undefined) return undefined;
      type = raw[i + 1]!;
    } else if (name === "content-length") {
      if (length !== undefined) return undefined;
      length = raw[i + 1]!;
    } else if (name === "host") {
      if (host !== undefined) return undefined;
      host = raw[i + 1]!;
    } else if (
      name === "transfer-encoding" || name === "expect" ||
      // A browser's request: the Web-standard path checks whether another site's page sent it.
      name === "origin" || name === "sec-fetch-site"
    ) return undefined;
  }
  if (method !== "GET") {
    if (length === undefined || !/^[0-9]{1,15}$/.test(length)) return undefined;
    if (Number(length) > fast.maxBody) return undefined;
  } else if (length !== undefined && length !== "0") return undefined;
  // The URL exactly as the Web-standard path builds it; one it cannot build, or one with
  // credentials (which a `Request` refuses), takes that path (400).
  let url: URL;
  try {
    url = requestUrl(req.url ?? "/", host || fallbackHost);
  } catch {
    return undefined;
  }
  if (url.username !== "" || url.password !== "") return undefined;
  return fast.route(method, url, type);
}

/** Reads the whole body, runs `route` and writes its answer. */
async function answerFast(
  req: NodeIncomingMessage,
  res: NodeServerResponse,
  route: FastRoute,
): Promise<void> {
  let gone = false;
  res.on("close", () => {
    if (!res.writableFinished) gone = true;
  });
  const body = await new Promise<Uint8Array | undefined>((resolve) => {
    const chunks: Uint8Array[] = [];
    const onData = (chunk: Uint8Array): void => {
      chunks.push(chunk);
    };
    const done = (bytes: Uint8Array | undefined): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      req.off("error", onClose);
      resolve(bytes);
    };
    // A copy: Node may reuse a chunk's memory (a Buffer from its pool).
    const onEnd = (): void => done(concatBytes(chunks));
    const onClose = (): void => done(undefined);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
    req.on("error", onClose);
    req.resume();
  });
  if (body === undefined) {
    // The connection closed before the whole body arrived: no one is left to answer.
    res.destroy();
    return;
  }
  const answer = await route(body, () => gone);
  const headers: string[] = [];
  for (const name in answer.headers) headers.push(name, answer.headers[name]!);
  // With its length known, Node writes head and body in one piece (not chunked, and a string
  // rather than bytes: those would take a second write).
  if (answer.status !== 204) headers.push("content-length", String(utf8Length(answer.body ?? "")));
  try {
    res.writeHead(answer.status, headers);
    if (answer.body === null) res.end();
    else res.end(answer.body);
  } catch {
    res.destroy();
  }
}

/** The length of `text` in UTF-8, in bytes (a lone surrogate is written as U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    // 2 bytes for one UTF-16 unit below U+0800, 3 above; 4 for a surrogate pair's two units.
    length += code < 0x800 ? 1 : 2;
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return length;
}

async function answer(
  req: NodeIncomingMessage,
  res: NodeServerResponse,
  handler: (request: Request) => Promise<Response>,
  fallbackHost: string,
  expectContinue: boolean,
): Promise<void> {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const method = req.method ?? "GET";
  let request: Request;
  try {
    if (FORBIDDEN_METHODS.has(method)) {
      req.resume();
      return await send(res, plain(501, `method ${method} is not implemented`));
    }
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    const url = requestUrl(req.url ?? "/", headers.get("host") || fallbackHost);
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal: controller.signal };
    if (method !== "GET" && method !== "HEAD") {
      // Last, so that nothing after it can fail with the request's data listener attached.
      init.body = bodyOf(req, expectContinue ? res : undefined);
      init.duplex = "half";
    }
    request = new Request(url, init);
  } catch {
    req.resume();
    return await send(res, plain(400, "bad request"));
  }
  let response: Response;
  try {
    response = await handler(request);
  } catch {
    response = plain(500, "internal server error");
  }
  await send(res, response);
}

/**
 * The request body as a web stream that reads only when asked (pull), and that stops listening
 * and discards the rest when cancelled.
 */
function bodyOf(
  req: NodeIncomingMessage,
  continueOn: NodeServerResponse | undefined,
): ReadableStream<Uint8Array> {
  let settled = false;
  let onData: (chunk: Uint8Array) => void = () => {};
  let onEnd: () => void = () => {};
  let onError: (error: Error) => void = () => {};
  let onClose: () => void = () => {};
  const detach = (): void => {
    settled = true;
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("error", onError);
    req.off("close", onClose);
  };
  req.pause();
  return new ReadableStream<Uint8Array>({
    start(controller): void {
      onData = (chunk) => {
        if (settled) return;
        // A copy: Node may reuse the chunk's memory (a Buffer from its pool).
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      };
      onEnd = () => {
        if (settled) return;
        detach();
        controller.close();
      };
      onError = (error) => {
        if (settled) return;
        detach();
        controller.error(error);
      };
      onClose = () => {
        if (settled) return;
        detach();
        controller.error(new Error("the connection closed before the whole body arrived"));
      };
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("error", onError);
      req.on("close", onClose);
    },
    pull(): void {
      if (continueOn !== undefined) {
        continueOn.writeContinue();
        continueOn = undefined;
      }
      req.resume();
    },
    cancel(): void {
      if (settled) return;
      detach();
      // Without a data listener a flowing stream drops what arrives; once it has all arrived,
      // the connection can carry the next request.
      req.resume();
    },
  }, { highWaterMark: 0 });
}

/** Writes `response` to `res`, stopping when the client goes away. */
async function send(res: NodeServerResponse, response: Response): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
    }
    res.end();
  } catch {
    // The body failed partway: end the connection so that the client cannot take the part it
    // got for the whole.
    res.destroy();
    await reader.cancel().catch(() => {});
  }
}

function drained(res: NodeServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

function plain(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

/** The parts of a `net.Socket` that {@linkcode answerClientError} uses. */
export interface NodeSocket {
  /** Whether it can still be written to. */
  readonly writable: boolean;
  /** Writes `data`, ends the connection, and calls `callback` once it is written. */
  end(data: string, callback: () => void): unknown;
  /** Ends the connection at once. */
  destroy(): unknown;
}

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
};

/**
 * Answers what Node's HTTP parser refused (the server's `clientError` event) in the same shape as
 * the handler's plain-text answers: 501 for a method it does not know (Node's parser knows a fixed
 * list of upper-case methods; `FOO` and `get` are refused), 431 for headers over its limit, 408
 * for a request that took too long, 400 for the rest. Nothing is written when part of a response
 * has already gone out on that connection.
 *
 * @param error The parser's error (its `code` and `rawPacket` are read).
 * @param socket The connection; it is closed.
 * @param responding Whether a response on this connection has started.
 */
export function answerClientError(error: unknown, socket: NodeSocket, responding: boolean): void {
  const { code, rawPacket } = error as { code?: string; rawPacket?: Uint8Array };
  if (!socket.writable || responding || code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  let status = 400;
  let message = "bad request";
  if (code === "HPE_INVALID_METHOD") {
    status = 501;
    const method = rawPacket === undefined
      ? ""
      : new TextDecoder().decode(rawPacket.subarray(0, 40)).match(/^[!#$%&'*+.^_`|~\w-]{1,32}(?= )/)
        ?.[0];
    message = method ? `method ${method} is not implemented` : "the method is not implemented";
  } else if (code === "HPE_HEADER_OVERFLOW") {
    status = 431;
    message = "the request's headers are too large";
  } else if (code === "HPE_CHUNK_EXTENSIONS_OVERFLOW") {
    status = 413;
    message = "the request's chunk extensions are too large";
  } else if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    message = "the request took too long";
  }
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      "content-type: text/plain; charset=utf-8\r\n" +
      "x-content-type-options: nosniff\r\n" +
      `content-length: ${new TextEncoder().encode(body).length}\r\n` +
      "connection: close\r\n\r\n" + body,
    () => socket.destroy(),
  );
}
