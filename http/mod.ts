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
 * | `method` | a method other than GET, POST, PUT, DELETE | 200, empty, nothing done | 405 with `Allow`; OPTIONS 204 with `Allow` (over Node's and Bun's servers, an unknown method or TRACE never reaches qite: 400, or the connection closes) | a 200 that did nothing hides the client's mistake |
 * | `body-missing` | POST whose `Message` has no `Body`, a `null` one, or no `Message` at all | 500 (`NOT NULL constraint failed: goqite.body`: a nil `[]byte` is bound as NULL) | 400 `Body is missing or null…` | it is the client's mistake; `""` sends an empty message |
 * | `content-type` | a body whose `Content-Type` is not JSON, `text/plain` or `application/x-www-form-urlencoded` | read as JSON | 415 | a form or an upload sent here by mistake is refused, not half-read |
 * | `size` | a request over `maxRequestSize`, or a `Body` over `maxBodySize` | read whole | 413, without reading the rest | memory stays bounded |
 * | `limits` | a number literal longer than 32 characters, or nesting deeper than 64 levels, anywhere in the body (also under keys goqite ignores) | accepted where Go ignores the value (Go nests up to 10 000) | 400 as soon as it is seen | parsing stays cheap; no 64-bit integer needs more than 20 characters |
 * | `extension` | qite's keys and routes: `Delivery` in a `Message`, `Messages` and `IDs`, `GET ?max=`, the sub-paths `stats`, `peek`, `dead`, `dead/count`, `dead/redrive`, `purge`, `release`, `bury` | ignored (a sub-path is the same route to goqite's handler) | acted on: fencing (409 when the delivery is stale), batches, stats and the rest | qite's features; goqite's clients never send them |
 * | `get-type` | a GET that answers 200 | `Content-Type: text/plain; charset=utf-8` (Go sniffs the body) | `Content-Type: application/json` | it is JSON; the body bytes are the same |
 * | `get-priority` | a GET that answers 200 | `"Priority":0` (goqite's receive reads only the id and body) | the message's priority | the real value; identical for priority 0 |
 * | `delay-ms` | any `Delay` | to the nanosecond (stored truncated to the millisecond) | rounded up to a whole millisecond | qite keeps milliseconds; a positive delay stays positive |
 * | `headers` | any answer | no extra headers | `Qite-Received`, `Qite-Delivery`, `Qite-Timeout`, `Qite-Max-Receive` (GET), `Qite-Message-Id` (POST), `Qite-Applied` (PUT, DELETE) | what goqite's answers leave out |
 * | `wording` | a 400 | Go's texts, quoting the input whole | goqite's own texts word for word (`ID cannot be empty`, `delay cannot be negative`, the timeout and interval texts); decoding errors as `error decoding request:` and qite's reason; input quoted as an escaped excerpt of at most 64 characters | an error answer never echoes a large input |
 * | `5xx` | the queue fails | 500 with the database's error text | 500 without detail (the cause goes to the logger), 503 with `Retry-After` when the database is busy | no internals leak to clients |
 * | `authorize` | with the `authorize` option | no such hook | 403, or the hook's own answer | access control |
 *
 * qite's extensions, in detail:
 * - Fencing: a GET answers the delivery's receipt token in `Qite-Delivery` (and `Delivery` in
 *   batch answers); PUT and DELETE with `"Delivery": "…"` only act while that delivery still
 *   holds the message, and answer 409 when it does not.
 * - Batches: `GET ?max=N` answers `{"Messages":[…]}` (each with `Received` and `Delivery`);
 *   POST, PUT and DELETE take `{"Messages":[…]}` and answer `{"IDs":[…]}` or
 *   `{"Results":[true,false,…]}`, in one transaction (PUT: one per distinct `Delay`).
 * - Sub-paths: `GET stats`, `GET peek?limit=&state=visible|delayed|inFlight`,
 *   `GET dead?limit=&cursor=`, `GET dead/count`, `POST dead/redrive` (`{"IDs":[…]}`, or no body
 *   for all), `DELETE dead`, `POST purge`, `POST release` (`{"Message":{"ID","Delivery",
 *   "Delay"}}` or `Messages`: hand back uncounted) and `POST bury` (make dead at once), both
 *   fenced and answering `{"Results":[…]}`.
 *   Durations in answers (`OldestVisibleAge`) are nanoseconds, times are RFC 3339.
 * - A long poll ends at once, handing nothing out, when the client disconnects.
 *
 * The client ({@linkcode createClient}) speaks to goqite's handler too, for `send`, `receive`,
 * `receiveAndWait`, `extend` and `delete`; its other methods need a qite server.
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
  createRouter,
  type Router,
  type RouterOptions,
  serve,
  type ServeOptions,
  type Server,
} from "./server.ts";
