/**
 * qite over HTTP: a Web-standard handler that speaks goqite's wire format, a typed client, and
 * a standalone server for the queues of one SQLite file.
 *
 * ## The wire format
 *
 * goqite's four routes, on the handler's mount point, with goqite's statuses and effects on the
 * queue. JSON keys are PascalCase and matched as Go's `encoding/json` matches them (case folded,
 * so `message`, `MESSAGE` and `Meſſage` are `Message`); `Body` is standard base64 (with padding)
 * or an array of byte values; `Delay` is an integer number of nanoseconds and `Priority` an
 * integer, both within 64 bits; `timeout`/`interval` are Go durations (`300ms`, `1.5s`, `20s`),
 * read from the query as Go's `net/url` reads it. The body is read as Go's `json.Decoder`
 * reads it: the first JSON value only (what follows it is ignored), `null` leaving a field as it
 * was (but setting `Body` back to nil), a repeated `Message` merged into the first.
 *
 * | method | request | success | errors |
 * | --- | --- | --- | --- |
 * | GET | `?timeout=` (0 < t ≤ 20s) long-polls, `&interval=` (0 < i ≤ timeout, default min(timeout, 100ms)) | 200 `{"Message":{"ID","Body","Delay":0,"Priority"}}`, or 204 when there is none | 400 bad timeout or interval |
 * | POST | `{"Message":{"Body","Delay","Priority"}}` | 200, empty | 400 bad JSON, negative delay, no Body; 413 too large |
 * | PUT | `{"Message":{"ID","Delay"}}` | 200, empty | 400 bad JSON, empty ID, delay ≤ 0 |
 * | DELETE | `{"Message":{"ID"}}` | 200, empty | 400 bad JSON, empty ID |
 *
 * `tests/http_goqite_wire_test.ts` replays over 600 requests, whose answers from goqite's handler
 * are recorded in `tests/fixtures/goqite_wire/cases.json`, through the standalone server over
 * TCP and through the handler: each gets goqite's status and does to the queue what goqite does
 * (the same message sent, extended, deleted or received), except where this table says
 * otherwise.
 *
 * ## Where qite answers differently from goqite
 *
 * | tag | request | goqite | qite | why |
 * | --- | --- | --- | --- | --- |
 * | `method` | a method other than GET, POST, PUT, DELETE | 200, empty, nothing done | 405 with `Allow` for a standard method a route does not take (`HEAD`, `PATCH`), 501 for any other; OPTIONS 204 with `Allow` (Bun's server closes the connection for a method it does not know) | a 200 that did nothing hides the client's mistake |
 * | `body-missing` | POST whose `Message` has no `Body`, a `null` one, or no `Message` at all | 500 (`NOT NULL constraint failed: goqite.body`: a nil `[]byte` is bound as NULL) | 400 `Body is missing or null…` | it is the client's mistake; `""` sends an empty message |
 * | `content-type` | a body whose `Content-Type` is not JSON, `text/plain` or `application/x-www-form-urlencoded` | read as JSON | 415 | a form or an upload sent here by mistake is refused, not half-read |
 * | `size` | a request over `maxRequestSize`, or a `Body` over `maxBodySize` | read whole | 413, without reading the rest | memory stays bounded |
 * | `limits` | a number literal longer than 32 characters, or nesting deeper than 64 levels, anywhere in the body (also under keys goqite ignores) | accepted where Go ignores the value (Go nests up to 10 000) | 400 as soon as it is seen | parsing stays cheap; no 64-bit integer needs more than 20 characters |
 * | `extension` | qite's keys and routes: `Delivery` in a `Message`, `Messages` and `IDs` (beside which `"Message": false` is qite's client's mark, refused by goqite's handler), `GET ?max=`, the sub-paths `stats`, `peek`, `dead`, `dead/count`, `dead/redrive`, `purge`, `release`, `bury` | ignored (a sub-path is the same route to goqite's handler) | acted on: fencing (409 when the delivery is stale), batches, stats and the rest | qite's features; goqite's clients never send them |
 * | `get-type` | a GET that answers 200 | `Content-Type: text/plain; charset=utf-8` (Go sniffs the body) | `Content-Type: application/json` | it is JSON; the body bytes are the same |
 * | `get-priority` | a GET that answers 200 | `"Priority":0` (goqite's receive reads only the id and body) | the message's priority | the real value; identical for priority 0 |
 * | `delay-ms` | any `Delay` | to the nanosecond (stored truncated to the millisecond) | rounded up to a whole millisecond | qite keeps milliseconds; a positive delay stays positive |
 * | `headers` | any answer | no extra headers | `Qite-Received`, `Qite-Delivery`, `Qite-Timeout`, `Qite-Max-Receive` (GET), `Qite-Message-Id` (POST), `Qite-Applied` (PUT, DELETE) | what goqite's answers leave out |
 * | `wording` | a 400 | Go's texts, quoting the input whole | goqite's own texts word for word (`ID cannot be empty`, `delay cannot be negative`, the timeout and interval texts); decoding errors as `error decoding request:` and qite's reason; input quoted as an escaped excerpt of at most 64 characters | an error answer never echoes a large input |
 * | `pg-range` | on PostgreSQL, a `Priority` outside 32 bits (goqite's PostgreSQL column is an `integer`) | 500 with the database's error text | 400 with the queue's reason; nothing is sent | it is the client's mistake |
 * | `5xx` | the queue fails | 500 with the database's error text | 500 without detail (the cause goes to the logger), 503 with `Retry-After` when the database is busy | no internals leak to clients |
 * | `cross-site` | a request a browser marks as sent by another site's page (`Sec-Fetch-Site` other than `same-origin` or `none`, or an `Origin` whose host is not the request's) | acted on | 403 `cross-site request refused` | any web page could otherwise send, receive or delete through a visitor's browser (a form or `text/plain` POST needs no preflight); clients that are not browsers send neither header |
 * | `authorize` | with the `authorize` option | no such hook | 403, or the hook's own answer | access control |
 *
 * qite's extensions, in detail:
 * - Fencing: a GET answers the delivery's receipt token in `Qite-Delivery` (and `Delivery` in
 *   batch answers); PUT and DELETE with `"Delivery": "…"` only act while that delivery still
 *   holds the message, and answer 409 when it does not.
 * - Batches: `GET ?max=N` answers `{"Messages":[…]}` (each with `Received` and `Delivery`), up
 *   to N and at most `maxBatchSize` (as `limit` on `peek` and `dead`);
 *   POST, PUT and DELETE take `{"Messages":[…]}` and answer `{"IDs":[…]}` or
 *   `{"Results":[true,false,…]}`, in one transaction (PUT: one per distinct `Delay`).
 * - Sub-paths: `GET stats`, `GET peek?limit=&state=visible|delayed|inFlight&bodyBytes=`,
 *   `GET dead?limit=&cursor=&bodyBytes=` (messages with `Created`, `Timeout` and `Size`; with
 *   `bodyBytes`, only that many bytes of each `Body`), `GET dead/count`, `POST dead/redrive` (`{"IDs":[…]}`, or no body
 *   for all), `DELETE dead`, `POST purge`, `POST release` (`{"Message":{"ID","Delivery",
 *   "Delay"}}` or `Messages`: hand back uncounted) and `POST bury` (make dead at once), both
 *   fenced and answering `{"Results":[…]}`.
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
 * The client ({@linkcode createClient}) speaks to goqite's handler too, for `send`, `receive`,
 * `receiveAndWait`, `extend` and `delete`; its other methods need a qite server.
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
export { createDashboard, type DashboardOptions, type QueueSource } from "./dashboard.ts";
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
export {
  type Operation,
  type OperationEvent,
  Throughput,
  type ThroughputOptions,
  type ThroughputSeries,
} from "./throughput.ts";
