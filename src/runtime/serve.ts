/**
 * Serving a Web-standard handler over HTTP on each runtime (`Deno.serve`, `Bun.serve`,
 * `node:http`), and listening for shutdown signals. The rest of qite only sees
 * {@linkcode listen} and {@linkcode onShutdownSignal}.
 *
 * @module
 */

import { detectRuntime } from "./detect.ts";
import {
  answerClientError,
  type FastRoutes,
  type NodeListener,
  nodeListener,
  type NodeSocket,
} from "./node_listener.ts";

/** What {@linkcode listen} needs. */
export interface ListenOptions {
  /** The TCP port; 0 picks a free one. */
  port: number;
  /** The interface to listen on, e.g. `"127.0.0.1"` or `"0.0.0.0"`. */
  hostname: string;
  /** Answers each request. It must not reject. */
  fetch: (request: Request) => Promise<Response>;
  /**
   * Routes that answer without `Request` and `Response`, with the same answers as `fetch`; used
   * on Node only, where building those two costs more than the queue's work (Deno's and Bun's
   * servers hand out requests cheaply).
   */
  fast?: FastRoutes;
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

/**
 * Deno's `shutdown()` cuts the bodies of requests still arriving ("BadResource: Cannot read body
 * as underlying resource unavailable"), so closing first waits for the requests in flight, and
 * answers new ones 503 meanwhile; then it shuts the server down (which closes idle connections).
 */
function listenDeno(options: ListenOptions): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const fetch = async (request: Request): Promise<Response> => {
    if (closing) {
      return new Response("the server is shutting down\n", {
        status: 503,
        headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
      });
    }
    inFlight++;
    try {
      return await options.fetch(request);
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  return new Promise((resolve) => {
    const server: DenoServer = deno.serve({
      port: options.port,
      hostname: options.hostname,
      onListen: () =>
        queueMicrotask(() =>
          resolve({
            port: server.addr.port,
            hostname: server.addr.hostname,
            close: async () => {
              closing = true;
              if (inFlight > 0) await new Promise<void>((resolve) => drained = resolve);
              await server.shutdown();
            },
          })
        ),
    }, fetch);
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

/** A connection, as node:http's "connection" event and `request.socket` give it. */
interface Connection {
  destroy(): unknown;
  once(event: "close", listener: () => void): unknown;
}
interface NodeServer {
  listen(port: number, hostname: string, callback: () => void): void;
  address(): { port: number; address: string };
  close(callback: (error?: Error) => void): void;
  closeIdleConnections(): void;
  once(event: "error", listener: (error: Error) => void): void;
  on(event: "connection", listener: (socket: Connection) => void): void;
  on(event: "request" | "checkContinue", listener: NodeListener): void;
  on(
    event: "clientError",
    listener: (error: Error, socket: NodeSocket & { _httpMessage?: unknown }) => void,
  ): void;
  on(event: "connect", listener: (request: { method?: string }, socket: NodeSocket) => void): void;
}
interface NodeHttp {
  createServer(): NodeServer;
}

function nodeBuiltin<T>(name: string): T {
  const process = (globalThis as { process?: { getBuiltinModule(name: string): unknown } })
    .process!;
  return process.getBuiltinModule(name) as T;
}

function listenNode(options: ListenOptions): Promise<Listener> {
  const http = nodeBuiltin<NodeHttp>("node:http");
  const server = http.createServer();
  // Node's parser refuses some requests before any listener runs; answer them like the handler.
  server.on("clientError", (error, socket) => {
    // A response still owed on this connection (the parser refused a request pipelined after
    // one being answered) goes out first, whole; then the connection ends, as on Bun.
    // (When the bytes refused are the body of the request that response is for, that request is
    // still incomplete, and it gets the parser's answer instead, if none of its own has started.)
    const pending = socket._httpMessage as
      | {
        writableFinished?: boolean;
        headersSent?: boolean;
        req?: { complete?: boolean };
        once(event: "close", listener: () => void): unknown;
      }
      | null
      | undefined;
    if (pending === undefined || pending === null || pending.writableFinished === true) {
      answerClientError(error, socket, false);
    } else if (pending.req?.complete === false) {
      answerClientError(error, socket, pending.headersSent === true);
    } else {
      pending.once("close", () => socket.destroy());
    }
  });
  // CONNECT never reaches the request listener (Node hands over the socket); refuse it.
  server.on("connect", (request, socket) => {
    answerClientError(
      { code: "HPE_INVALID_METHOD", rawPacket: new TextEncoder().encode(`${request.method} `) },
      socket,
      false,
    );
  });
  // Requests in flight per connection: closing ends the idle ones at once, and the others as
  // soon as their answer is written. server.close() alone waits for a connection that has not
  // sent a request yet (browsers open such spare connections) until the headers timeout.
  const inFlight = new Map<Connection, number>();
  let closing = false;
  const tracked = (listener: NodeListener): NodeListener => (request, response) => {
    const socket = (request as unknown as { socket: Connection }).socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.on("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
    listener(request, response);
  };
  server.on("connection", (socket) => {
    inFlight.set(socket, 0);
    socket.once("close", () => inFlight.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      const address = server.address();
      const host = address.address.includes(":")
        ? `[${address.address}]:${address.port}`
        : `${address.address}:${address.port}`;
      server.on("request", tracked(nodeListener(options.fetch, { host }, options.fast)));
      // Expect: 100-continue is answered only once the handler reads the body.
      server.on(
        "checkContinue",
        tracked(nodeListener(options.fetch, { host, expectContinue: true }, undefined)),
      );
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

/**
 * Calls `handler` each time the process gets SIGINT or SIGTERM (the first asks for a graceful
 * shutdown, a second one to hurry).
 *
 * @param handler What to do, e.g. shut down gracefully.
 * @returns A function that removes the listeners.
 */
export function onShutdownSignal(handler: (signal: string) => void): () => void {
  const signals = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => () => handler(signal));
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
