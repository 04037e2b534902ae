/**
 * The `http` workload: the standalone server (`http/cli.ts`) in a child process of this runtime,
 * on a fresh WAL file, driven from the bench's own process by 8 concurrent keep-alive
 * connections, each repeating POST (send), GET (receive) and DELETE (delete) in goqite's wire
 * format.
 *
 * The load client speaks HTTP/1.1 over `node:net` itself (a request is one write, a response is
 * read by its `Content-Length` or chunks): the runtimes' `fetch` clients cost more CPU than the
 * server's work on some runtimes, and on a 2-core machine the client's CPU is taken from the
 * server's.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/runtime/detect.ts";
import { openStore, type Store } from "./_storage.ts";
import type { Context, Trial, Workload } from "./_workloads.ts";

const CLI = fileURLToPath(new URL("../http/cli.ts", import.meta.url));
/** Concurrent keep-alive connections, each running the cycle in a loop. */
export const CONNECTIONS = 8;
const PATH = "/queues/bench";
/** Cycles each fresh server runs before it is timed. */
const WARM_UP = 1_000;
/** goqite's two-byte body `yo`, in base64. */
const SEND_BODY = JSON.stringify({ Message: { Body: btoa("yo") } });

/** A running `http/cli.ts`. */
export interface ServerProcess {
  readonly host: string;
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** Sends SIGTERM and waits for the server to stop. */
  close(): Promise<void>;
}

/** Starts `http/cli.ts` with this runtime on `path`, port 0, and waits for its URL. */
export function startServer(path: string): Promise<ServerProcess> {
  const deno = detectRuntime() === "deno";
  const args = deno ? ["run", "-A", "--unstable-no-legacy-abort", CLI] : [CLI];
  const child: ChildProcess = spawn(process.execPath, [...args, "--db", path, "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    exited.then(() => reject(new Error(`The server exited before it listened:\n${output}`)));
    child.stdout!.on("data", (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      const match = output.match(/at http:\/\/([^ ]+):(\d+)\/queues\/\{name\}/);
      if (match === null) return;
      resolve({
        host: match[1]!,
        port: Number(match[2]),
        pid: child.pid!,
        close: async (): Promise<void> => {
          child.kill("SIGTERM");
          await exited;
          if (!output.includes("qite: stopped")) {
            throw new Error(`The server did not stop gracefully:\n${output}`);
          }
        },
      });
    });
  });
}

/** A response: its status and body (as Latin-1 text; the bodies here are ASCII JSON). */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * One keep-alive HTTP/1.1 connection that carries one request at a time. It reconnects when the
 * server closed it while idle (Node's server closes idle connections after 5 s).
 */
export class Connection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  #buffer = "";
  #waiting: { resolve(answer: Answer): void; reject(error: Error): void } | undefined;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Sends one request and resolves with its response. */
  async request(method: string, body?: string): Promise<Answer> {
    const socket = this.#socket ?? await this.#connect();
    let head = `${method} ${PATH} HTTP/1.1\r\nhost: ${this.#host}:${this.#port}\r\n`;
    if (body !== undefined) {
      head += `content-type: application/json\r\ncontent-length: ${body.length}\r\n`;
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(`${head}\r\n${body ?? ""}`, "latin1");
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.#port, this.#host, () => {
        socket.off("error", reject);
        this.#socket = socket;
        resolve(socket);
      });
      socket.setNoDelay(true);
      socket.setEncoding("latin1");
      socket.once("error", reject);
      socket.on("data", (chunk: string) => {
        this.#buffer += chunk;
        this.#parse();
      });
      socket.on("close", () => {
        if (this.#socket === socket) this.#socket = undefined;
        this.#buffer = "";
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting?.reject(new Error("The server closed the connection during a request"));
      });
    });
  }

  /** Completes the waiting request once its whole response is in the buffer. */
  #parse(): void {
    const end = this.#buffer.indexOf("\r\n\r\n");
    if (end < 0 || this.#waiting === undefined) return;
    const head = this.#buffer.slice(0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body: string;
    let rest: string;
    if (length !== null) {
      const stop = end + 4 + Number(length[1]);
      if (this.#buffer.length < stop) return;
      body = this.#buffer.slice(end + 4, stop);
      rest = this.#buffer.slice(stop);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const chunks = unchunk(this.#buffer, end + 4);
      if (chunks === undefined) return;
      [body, rest] = chunks;
    } else {
      body = "";
      rest = this.#buffer.slice(end + 4);
    }
    this.#buffer = rest;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting.resolve({ status, body });
  }
}

/** A chunked body that starts at `from`, and what follows it; `undefined` until it is whole. */
function unchunk(text: string, from: number): [string, string] | undefined {
  let body = "";
  let at = from;
  while (true) {
    const line = text.indexOf("\r\n", at);
    if (line < 0) return undefined;
    const size = parseInt(text.slice(at, line), 16);
    if (size === 0) {
      // No trailers are sent here: the last chunk is followed by an empty line.
      if (text.length < line + 4) return undefined;
      return [body, text.slice(line + 4)];
    }
    if (text.length < line + 2 + size + 2) return undefined;
    body += text.slice(line + 2, line + 2 + size);
    at = line + 2 + size + 2;
  }
}

function expect(answer: Answer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`Benchmark check failed: ${what} answered ${answer.status}: ${answer.body}`);
  }
}

/** One cycle on `connection`: send, receive (again after a 204), delete. */
async function cycle(connection: Connection): Promise<void> {
  expect(await connection.request("POST", SEND_BODY), 200, "POST");
  const received = await connection.request("GET");
  // Every loop sends before it receives, so a message is always there; a 204 would be a bug.
  expect(received, 200, "GET");
  const id = JSON.parse(received.body).Message.ID as string;
  expect(
    await connection.request("DELETE", JSON.stringify({ Message: { ID: id } })),
    200,
    "DELETE",
  );
}

/** Runs `count` cycles over `connections`, each taking the next cycle until none is left. */
async function drive(connections: readonly Connection[], count: number): Promise<void> {
  let next = 0;
  await Promise.all(connections.map(async (connection) => {
    while (next < count) {
      next++;
      await cycle(connection);
    }
  }));
}

/**
 * The `http` workload: the standalone server in a child process, 8 keep-alive connections of
 * POST, GET, DELETE from this process. Compared with the in-process `single` workload, run by
 * turns with it (see `companionsOf` in `_trial.ts`).
 */
export const httpWorkload: Workload = {
  id: "http",
  title: "POST+GET+DELETE, standalone server",
  group: "http",
  versus: { id: "single", as: "percent" },
  unit: "cycle",
  storages: ["wal-normal"],
  sizes: [0, 2_000, 0, 40],
  async prepare(context: Context, units: number): Promise<Trial> {
    // The bench's connection is for the settings and the final check; the server has its own,
    // with the runtime's default driver (http/cli.ts has no choice of driver), whatever
    // `--driver` says, and so has this one, so that the row reports the server's.
    const store: Store = openStore(context.storage, undefined);
    let server: ServerProcess;
    try {
      server = await startServer(store.path);
    } catch (error) {
      store.close();
      throw error;
    }
    const connections = Array.from(
      { length: CONNECTIONS },
      () => new Connection(server.host, server.port),
    );
    try {
      // Untimed: a fresh server's code is not compiled yet, a long-running one's is.
      await drive(connections, context.smoke ? CONNECTIONS : WARM_UP);
    } catch (error) {
      for (const connection of connections) connection.close();
      await server.close().catch(() => {});
      store.close();
      throw error;
    }
    return {
      units,
      store,
      run: (count) => drive(connections, count),
      async close(): Promise<void> {
        try {
          for (const connection of connections) connection.close();
          await server.close();
          const left = Number(store.db.prepare("select count(*) as n from goqite").get()?.n);
          if (left !== 0) throw new Error(`Benchmark check failed: ${left} messages are left`);
        } finally {
          store.close();
        }
      },
    };
  },
};
