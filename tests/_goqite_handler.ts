/**
 * A stand-in for goqite's HTTP handler (maragu.dev/goqite/http), over a qite queue: it answers
 * with goqite's statuses and does what goqite does to the queue, so that qite's client can be
 * tested against "a goqite server". `tests/http_goqite_wire_test.ts` checks it against every row
 * of the goqite wire fixture (made by `fixtures/goqite_wire/oracle.go`).
 *
 * What it keeps of goqite: one route for every path; GET receives (a long poll with
 * `?timeout=`), answering `{"Message":{"ID","Body","Delay":0,"Priority":0}}` as `text/plain`
 * (what Go's content sniffing makes of it) or 204; POST sends, and answers 500 for a nil Body
 * (SQLite's NOT NULL, as goqite's real queue fails), or with `nilBody: "empty"` sends an empty
 * message instead (goqite on PostgreSQL through lib/pq, which binds a nil `[]byte` as an empty
 * `bytea`); PUT extends; DELETE deletes; any other
 * method gets 200 and does nothing; no `Qite-*` headers, no batches, no fencing, Go's JSON limits
 * (nesting up to 10 000, numbers of any length). Decoding errors say why in qite's words, not
 * Go's, except for `"Message": false` (qite's client's mark), which gets Go's words.
 *
 * @module
 */

import type { Queue } from "../mod.ts";
import type { Handler } from "../http/handler.ts";
import { pollWindow } from "../http/handler.ts";
import {
  decodeRequest,
  encodeBase64,
  falseMessageError,
  goJson,
  WireError,
  type WireMessage,
} from "../http/_wire.ts";

const GO_LIMITS = { depth: 10_000, number: Number.POSITIVE_INFINITY };
const NS_PER_MS = 1_000_000n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What goqite's `http.Error` writes. */
function goError(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
    },
  });
}

function ok(): Response {
  return new Response(null, { status: 200 });
}

function ms(ns: bigint): number {
  return Number((ns + NS_PER_MS - 1n) / NS_PER_MS);
}

async function decode(request: Request): Promise<WireMessage> {
  const body = new Uint8Array(await request.arrayBuffer());
  const decoded = decodeRequest(body, { extensions: false, limits: GO_LIMITS });
  return decoded.message ?? {};
}

async function receive(queue: Queue, request: Request): Promise<Response> {
  const window = pollWindow(new URL(request.url).search.slice(1));
  let message;
  if (window === undefined) message = await queue.receive();
  else {
    const signal = AbortSignal.timeout(ms(window.timeout));
    try {
      message = await queue.receiveAndWait({ signal, interval: Number(window.interval) / 1e6 });
    } catch (error) {
      if (signal.aborted) return new Response(null, { status: 204 });
      throw error;
    }
  }
  if (message === undefined) return new Response(null, { status: 204 });
  const body = goJson({
    Message: { ID: message.id, Body: encodeBase64(message.body), Delay: 0, Priority: 0 },
  });
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** Options for {@linkcode createGoqiteHandler}. */
export interface GoqiteHandlerOptions {
  /**
   * What a send with a nil Body does: fail as on SQLite (500), or send an empty message, as
   * goqite on PostgreSQL through lib/pq does.
   *
   * @default {"refuse"}
   */
  nilBody?: "refuse" | "empty";
}

/**
 * Creates a handler that answers as goqite's does, over `queue`.
 *
 * @param queue The queue behind it.
 * @param options What a nil Body does.
 * @returns The handler.
 */
export function createGoqiteHandler(queue: Queue, options: GoqiteHandlerOptions = {}): Handler {
  const { nilBody = "refuse" } = options;
  return async (request: Request): Promise<Response> => {
    try {
      switch (request.method) {
        case "GET":
          return await receive(queue, request);
        case "POST": {
          const message = await decode(request);
          const delay = message.delay ?? 0n;
          if (delay < 0n) return goError(400, "delay cannot be negative");
          if (message.body === undefined && nilBody === "refuse") {
            return goError(500, "error sending message: NOT NULL constraint failed: goqite.body");
          }
          const priority = message.priority ?? 0n;
          await queue.send({
            body: message.body ?? new Uint8Array(),
            delay: ms(delay),
            priority: priority >= -SAFE && priority <= SAFE ? Number(priority) : priority,
          });
          return ok();
        }
        case "PUT": {
          const message = await decode(request);
          if (message.id === undefined || message.id === "") {
            return goError(400, "ID cannot be empty");
          }
          if (message.delay === undefined || message.delay <= 0n) {
            return goError(400, "delay must larger than zero");
          }
          await queue.extend(message.id, ms(message.delay));
          return ok();
        }
        case "DELETE": {
          const message = await decode(request);
          if (message.id === undefined || message.id === "") {
            return goError(400, "ID cannot be empty");
          }
          await queue.delete(message.id);
          return ok();
        }
        default:
          await request.body?.cancel();
          return ok();
      }
    } catch (error) {
      if (error instanceof WireError && error.message === falseMessageError().message) {
        // Go's own words for this one: qite's client's mark on requests only qite understands.
        return goError(
          400,
          "error decoding request: json: cannot unmarshal bool into Go struct field " +
            "request.Message of type goqite.Message",
        );
      }
      if (error instanceof WireError) return goError(400, error.message);
      return goError(500, `error: ${(error as Error).message}`);
    }
  };
}
