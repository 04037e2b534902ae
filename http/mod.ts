/**
 * qite over HTTP: a Web-standard handler that speaks goqite's wire format, a typed client, and
 * a standalone server for the queues of one SQLite file.
 *
 * ## The wire format
 *
 * goqite's four routes, on the handler's mount point, byte for byte as goqite answers them.
 * JSON keys are PascalCase and matched without regard to case, `Body` is standard base64 (with
 * padding), `Delay` is an integer number of nanoseconds, and `timeout`/`interval` are Go
 * durations (`300ms`, `1.5s`, `20s`).
 *
 * | method | request | success | errors |
 * | --- | --- | --- | --- |
 * | GET | `?timeout=` (0 < t ≤ 20s) long-polls, `&interval=` (0 < i ≤ timeout, default min(timeout, 100ms)) | 200 `{"Message":{"ID","Body","Delay":0,"Priority"}}`, or 204 when there is none | 400 bad timeout or interval |
 * | POST | `{"Message":{"Body","Delay","Priority"}}` | 200, empty | 400 bad JSON, no Body key, negative delay; 413 too large |
 * | PUT | `{"Message":{"ID","Delay"}}` | 200, empty | 400 bad JSON, empty ID, delay ≤ 0 |
 * | DELETE | `{"Message":{"ID"}}` | 200, empty | 400 bad JSON, empty ID |
 *
 * Beyond goqite, without changing those answers:
 * - Response headers: `Qite-Received` (the receive count) on a GET, `Qite-Message-Id` on a
 *   POST, `Qite-Applied: true|false` on a PUT or DELETE.
 * - Fencing: PUT and DELETE with `"Received": n` (the count the receive returned) only act while
 *   that delivery still holds the message, and answer 409 when it does not.
 * - Batches: `GET ?max=N` answers `{"Messages":[…]}` (each with `Received`); POST, PUT and DELETE
 *   take `{"Messages":[…]}` and answer `{"IDs":[…]}` or `{"Results":[true,false,…]}`, in one
 *   transaction.
 * - Sub-paths: `GET stats`, `GET peek?limit=`, `GET dead?limit=&cursor=`, `GET dead/count`,
 *   `POST dead/redrive` (`{"IDs":[…]}`, or no body for all), `DELETE dead`, `POST purge`.
 *   Durations in answers (`OldestVisibleAge`) are nanoseconds, times are RFC 3339.
 * - Other methods get 405 with `Allow` (OPTIONS gets 204 with `Allow`); bodies of an unknown
 *   `Content-Type` get 415 (JSON, text/plain and curl's form type are read as JSON); 5xx
 *   answers carry no internal detail (the cause goes to the logger; 503 with `Retry-After` when
 *   the database is busy); a long poll ends at once, handing nothing out, when the client
 *   disconnects.
 *
 * @example A remote queue, used like a local one
 * ```ts
 * import { createClient, serve } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ db: ":memory:", port: 0 });
 * const queue = createClient(`${server.url}/queues/emails`);
 *
 * await queue.send({ body: "hello" });
 * const message = await queue.receive();
 * assert.ok(message);
 * assert.equal(new TextDecoder().decode(message.body), "hello");
 * assert.equal(await queue.delete(message), true);
 * ```
 *
 * @module
 */

export { type ClientOptions, createClient, HttpError, type QueueClient } from "./client.ts";
export { createDashboard, type DashboardOptions, type QueueSource } from "./dashboard.ts";
export { createHandler, type Handler, type HandlerOptions } from "./handler.ts";
export {
  createRouter,
  type Router,
  type RouterOptions,
  serve,
  type ServeOptions,
  type Server,
} from "./server.ts";
export {
  type Operation,
  type OperationEvent,
  Throughput,
  type ThroughputOptions,
  type ThroughputSeries,
} from "./throughput.ts";
