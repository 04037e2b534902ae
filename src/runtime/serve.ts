/**
 * Serving a Web-standard handler over HTTP on each runtime (`Deno.serve`, `Bun.serve`,
 * `node:http`), and listening for shutdown signals. The rest of qite only sees
 * {@linkcode listen} and {@linkcode onShutdownSignal}.
 *
 * @module
 */

import { detectRuntime } from "./detect.ts";

/** What {@linkcode listen} needs. */
export interface ListenOptions {
  /** The TCP port; 0 picks a free one. */
  port: number;
  /** The interface to listen on, e.g. `"127.0.0.1"` or `"0.0.0.0"`. */
  hostname: string;
  /** Answers each request. It must not reject. */
  fetch: (request: Request) => Promise<Response>;
}

/** A listening server. */
export interface Listener {
  /** The port it listens on. */
  readonly port: number;
  /** The hostname it listens on. */
  readonly hostname: string;
  /** Stops accepting connections and resolves once every request in flight has been answered. */
  close(): Promise<void>;
}

interface DenoServer {
  addr: { port: number; hostname: string };
  shutdown(): Promise<void>;
}
interface DenoGlobal {
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request) => Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
}
interface BunServer {
  port: number;
  hostname: string;
  pendingRequests: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
interface BunGlobal {
  serve(options: {
    port: number;
    hostname: string;
    idleTimeout: number;
    fetch: (request: Request) => Promise<Response>;
  }): BunServer;
}

/** Seconds a connection may stay silent in Bun; above goqite's 20 s long poll. */
const BUN_IDLE_TIMEOUT_S = 60;

/**
 * Serves `fetch` on `hostname:port` with the runtime's own HTTP server.
 *
 * @param options Where to listen and what answers.
 * @returns The listener, once it listens.
 */
export function listen(options: ListenOptions): Promise<Listener> {
  const runtime = detectRuntime();
  if (runtime === "deno") return listenDeno(options);
  if (runtime === "bun") return Promise.resolve(listenBun(options));
  return listenNode(options);
}

function listenDeno(options: ListenOptions): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  return new Promise((resolve) => {
    const server: DenoServer = deno.serve({
      port: options.port,
      hostname: options.hostname,
      onListen: () =>
        queueMicrotask(() =>
          resolve({
            port: server.addr.port,
            hostname: server.addr.hostname,
            close: () => server.shutdown(),
          })
        ),
    }, options.fetch);
  });
}

function listenBun(options: ListenOptions): Listener {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const server = bun.serve({
    port: options.port,
    hostname: options.hostname,
    idleTimeout: BUN_IDLE_TIMEOUT_S,
    fetch: options.fetch,
  });
  return {
    port: server.port,
    hostname: server.hostname,
    close: async () => {
      // stop(false) also waits for idle keep-alive connections (a browser keeps some open);
      // once every request has been answered, those are closed at once.
      const stopped = server.stop(false);
      while (server.pendingRequests > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await server.stop(true);
      await stopped;
    },
  };
}

interface NodeSocket {
  destroy(): void;
  once(event: "close", listener: () => void): void;
}
interface NodeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  socket: NodeSocket;
}
interface NodeResponse {
  writableFinished: boolean;
  on(event: "close", listener: () => void): void;
  writeHead(status: number, headers: [string, string][]): void;
  write(chunk: Uint8Array): boolean;
  once(event: "drain", listener: () => void): void;
  end(): void;
}
interface NodeServer {
  listen(port: number, hostname: string, callback: () => void): void;
  address(): { port: number; address: string };
  close(callback: (error?: Error) => void): void;
  closeIdleConnections(): void;
  once(event: "error", listener: (error: Error) => void): void;
  on(event: "connection", listener: (socket: NodeSocket) => void): void;
}
interface NodeHttp {
  createServer(listener: (req: NodeRequest, res: NodeResponse) => void): NodeServer;
}
interface NodeStream {
  Readable: { toWeb(stream: unknown): ReadableStream<Uint8Array> };
}

function nodeBuiltin<T>(name: string): T {
  const process = (globalThis as { process?: { getBuiltinModule(name: string): unknown } })
    .process!;
  return process.getBuiltinModule(name) as T;
}

function listenNode(options: ListenOptions): Promise<Listener> {
  const http = nodeBuiltin<NodeHttp>("node:http");
  const { Readable } = nodeBuiltin<NodeStream>("node:stream");
  // Requests in flight per connection: closing ends the idle ones at once, and the others as
  // soon as their answer is written. server.close() alone waits for a connection that has not
  // sent a request yet (browsers open such spare connections) until the headers timeout.
  const inFlight = new Map<NodeSocket, number>();
  let closing = false;
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.on("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
    void answerNode(req, res, options, Readable);
  });
  server.on("connection", (socket) => {
    inFlight.set(socket, 0);
    socket.once("close", () => inFlight.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      const address = server.address();
      resolve({
        port: address.port,
        hostname: address.address,
        close: () =>
          new Promise<void>((done, fail) => {
            closing = true;
            server.close((error) => error ? fail(error) : done());
            for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
          }),
      });
    });
  });
}

/** Turns a node:http request into a `Request`, and the handler's `Response` back. */
async function answerNode(
  req: NodeRequest,
  res: NodeResponse,
  options: ListenOptions,
  Readable: NodeStream["Readable"],
): Promise<void> {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  let response: Response;
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const method = req.method ?? "GET";
    const host = headers.get("host") ?? `${options.hostname}:${options.port}`;
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal: controller.signal };
    if (method !== "GET" && method !== "HEAD") {
      init.body = Readable.toWeb(req);
      init.duplex = "half";
    }
    response = await options.fetch(new Request(new URL(req.url ?? "/", `http://${host}`), init));
  } catch {
    response = new Response("bad request\n", { status: 400 });
  }
  res.writeHead(response.status, [...response.headers]);
  if (response.body !== null) {
    try {
      for await (const chunk of response.body) {
        if (!res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve));
      }
    } catch {
      // The client went away while the body was written.
    }
  }
  res.end();
}

/**
 * Calls `handler` once when the process gets SIGINT or SIGTERM.
 *
 * @param handler What to do, e.g. shut down gracefully.
 * @returns A function that removes the listeners.
 */
export function onShutdownSignal(handler: (signal: string) => void): () => void {
  const signals = ["SIGINT", "SIGTERM"];
  let fired = false;
  const listeners = signals.map((signal) => () => {
    if (fired) return;
    fired = true;
    handler(signal);
  });
  if (detectRuntime() === "deno") {
    const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
    signals.forEach((signal, i) => deno.addSignalListener(signal, listeners[i]!));
    return () => signals.forEach((signal, i) => deno.removeSignalListener(signal, listeners[i]!));
  }
  const process = (globalThis as unknown as {
    process: {
      on(signal: string, listener: () => void): void;
      off(signal: string, listener: () => void): void;
    };
  }).process;
  signals.forEach((signal, i) => process.on(signal, listeners[i]!));
  return () => signals.forEach((signal, i) => process.off(signal, listeners[i]!));
}
