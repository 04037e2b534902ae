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
 * - Methods: a standard method (`GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `PATCH`) that a route
 *   does not take gets 405 with `Allow`, `OPTIONS` gets 204 with `Allow`, and any other method
 *   gets 501 before `authorize` runs (methods are case-sensitive: `get` is another method); see
 *   "Odd methods" below for what each runtime lets through. Bodies of an unknown
 *   `Content-Type` get 415 (JSON, text/plain and curl's form type are read as JSON). Only
 *   qite's own checks of a request answer 4xx with a message; whatever else is thrown (a
 *   `TypeError` from your `authorize` hook too) is a 5xx that carries no detail (the cause goes
 *   to the logger; 503 with `Retry-After` when the database is busy); a long poll ends at once, handing nothing out, when the client
 *   disconnects.
 *
 * ## Odd methods
 *
 * Each runtime's HTTP parser sees a request before qite does. Over TCP, the standalone server
 * (`serve`, `http/cli.ts`) answers:
 *
 * | request | Deno | Bun | Node |
 * | --- | --- | --- | --- |
 * | `PATCH` (standard, not taken) | 405 + `Allow` | 405 + `Allow` | 405 + `Allow` |
 * | `PROPFIND`, `QUERY`, `TRACE`, `CONNECT` | 501 | 501 | 501 |
 * | an unknown token (`FOO`) or a case variant (`get`, `Get`) | 501 | the connection is closed with no answer | 501 |
 *
 * Deno passes any method token to the handler as it was sent. Bun's parser knows a fixed list of
 * upper-case methods and closes the connection on any other, before a handler runs; nothing in
 * `Bun.serve` can answer it. Node's parser also knows a fixed list (`http.METHODS`) and refuses
 * the rest with its `clientError` event, which qite's server answers with the same 501 as the
 * handler (a plain `node:http` server answers 400 with an empty body instead); `TRACE` and
 * `CONNECT` cannot be carried by a `Request`, so `toNodeListener` answers them with 501 itself.
 *
 * ## Mounting the handler
 *
 * `createHandler(queue, { basePath: "/api/emails" })` answers below its mount path: `GET
 * /api/emails` receives, `GET /api/emails/stats` reads the counts, and any other path gets 404.
 * It mounts in `Deno.serve(app)`, `Bun.serve({ fetch: app })`, `node:http` as
 * `createServer(toNodeListener(app))`, and Hono as `app.all("/api/emails/*", (c) =>
 * handler(c.req.raw))`, or, since Hono's `mount()` strips the prefix, `app.mount("/api/emails",
 * createHandler(queue, { basePath: "/" }))`. Without `basePath` the route is read from the
 * path's last segments, which breaks a mount path that ends in a route name (`/stats`,
 * `/x/dead`). `createRouter` and `serve` take `basePath` too.
 *
 * ## Deno's legacy abort
 *
 * By default `Deno.serve` aborts `request.signal` after every successful response, not only when
 * the client goes away, and prints a deprecation warning the first time a handler that read
 * `request.signal` answers ("request.signal aborts on successful responses (legacy behavior)").
 * qite's handler reads it (a long poll ends when the client disconnects), so the warning shows up
 * once per process. It changes nothing for qite: a long poll removes its listener before it
 * answers, and a disconnect aborts the signal in both modes. `--unstable-no-legacy-abort` (which
 * `deno task serve` passes) switches to the coming default, where the signal aborts only when the
 * client cancels or the connection is lost before the response is sent, and silences the warning.
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
export { createHandler, type Handler, type HandlerOptions } from "./handler.ts";
export {
  type NodeIncomingMessage,
  type NodeListener,
  type NodeListenerOptions,
  type NodeServerResponse,
  toNodeListener,
} from "../src/runtime/node_listener.ts";
export {
  createRouter,
  type Router,
  type RouterOptions,
  serve,
  type ServeOptions,
  type Server,
} from "./server.ts";
