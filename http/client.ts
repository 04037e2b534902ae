/**
 * A typed client for a queue served by qite's HTTP handler, or goqite's for goqite's four
 * operations.
 *
 * @module
 */

import { QueueError } from "../src/errors.ts";
import type {
  DeadPage,
  Message,
  MessageId,
  MessageInfo,
  QueueStats,
  Receipt,
  SendMessage,
} from "../src/message.ts";
import type {
  DeleteAndReceiveResult,
  ListDeadOptions,
  PeekOptions,
  QueueLike,
  ReceiveAndWaitOptions,
} from "../src/queue_like.ts";
import {
  checkBodyBytes,
  checkDuration,
  checkPeekOptions,
  type Outgoing,
  parseList,
  parseMessage,
  toReceipt,
  toTarget,
} from "../src/_input.ts";
import {
  checkInteger,
  checkName,
  checkObject,
  checkPositive,
  checkSignal,
  show,
} from "../src/_validate.ts";
import { base64ToBytes, encodeBase64, goJson } from "./_wire.ts";
import { MAX_DEPTH, parseFirstJson, toPlain } from "./_json.ts";
import { pause } from "../src/_time.ts";

/** Answers are the server's: deep enough for qite's, any number length. */
const ANSWER_LIMITS = { depth: MAX_DEPTH, number: 64 };

/** Options for {@linkcode createClient}. */
export interface ClientOptions {
  /** Headers sent with every request, e.g. `{ authorization: "Bearer …" }`. */
  headers?: HeadersInit;
  /**
   * The `fetch` to use.
   *
   * @default {globalThis.fetch}
   */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * The longest single long poll of `receiveAndWait`, in milliseconds (the server allows up to
   * 20 000); the client polls again until a message arrives or its signal aborts. A poll that
   * ends empty in less than half this time is retried after a growing, jittered pause (50 ms,
   * doubling up to 5 s), so a server that answers at once is not flooded.
   *
   * @default {20000}
   */
  maxWait?: number;
  /**
   * The queue's visibility timeout on the server, in milliseconds, until the server says it: a
   * qite server reports it (and `maxReceive`) with every receive, and the client takes it from
   * there. A goqite server does not; give it here if the server does not use goqite's default.
   * The job runner uses it to renew leases in time.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * The queue's maximum receive count on the server, until the server says it (see
   * `timeout`).
   *
   * @default {3}
   */
  maxReceive?: number;
  /**
   * How long a request may go unanswered, in milliseconds, before it fails with a `QueueError`
   * of code `NETWORK` (for a long poll: its wait, plus this). A server that never answers (a
   * stuck proxy, a half-open connection) then cannot hang a worker, or a job runner's lease
   * renewals and shutdown.
   *
   * @default {10000}
   */
  requestTimeout?: number;
}

/**
 * A remote queue with the methods of {@linkcode Queue}, so that a worker can use a queue over
 * HTTP as it would use a local one. Misuse throws `TypeError`/`RangeError` before any request;
 * an error answer throws {@linkcode HttpError} (code `HTTP`) with the status and the server's
 * message, and no answer at all a `QueueError` with code `NETWORK`.
 *
 * Against goqite's own handler (goqite's `http.NewHandler`), `send`, `receive`,
 * `receiveAndWait`, `extend` and `delete` work as they do against qite, except that `send`
 * resolves to `undefined` (goqite does not tell the new id), `extend` and `delete` always
 * resolve to `true` (goqite does not tell whether the id existed), and a received message's
 * `received` count is 1 and its `priority` 0 (goqite does not tell them). `receiveBatch` and
 * `receiveBatchAndWait` get at most one message at a time, and a message's `delivery` is empty
 * (goqite has no receipts: `extend` and `delete` given it act on the bare id). Every other
 * method (the batches, `deleteAndReceive`, stats, peek, the dead-message methods, `purge`;
 * and so the job runner, whose `start()` rejects) needs a qite server: against goqite they
 * throw an {@linkcode HttpError} that says so, without touching the queue (the GET routes send
 * `timeout=qite-only`, which goqite refuses before it receives); `release` and `bury`, given a
 * message from goqite, reject with a `QueueError` of code `UNSUPPORTED` before any request.
 *
 * `extend(target, 0)` is sent as 1 ns (goqite's wire refuses a delay of 0), which a qite server
 * rounds up to 1 ms.
 */
export interface QueueClient extends QueueLike {
  /** The queue's URL. */
  readonly url: string;
}

/**
 * A server's error answer, with its status and its message.
 *
 * @example Telling a refused request apart
 * ```ts
 * import { HttpError } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * const error = new HttpError(401, "unauthorized");
 * assert.equal(error.code, "HTTP");
 * assert.equal(error.status, 401);
 * ```
 */
export class HttpError extends QueueError {
  /** The HTTP status. */
  readonly status: number;
  /** What the server said (its answer's text, trimmed). */
  readonly serverMessage: string;

  /**
   * Creates the error for a server's error answer.
   *
   * @param status The HTTP status.
   * @param message The server's message.
   */
  constructor(status: number, message: string) {
    super("HTTP", `The server answered ${status}: ${message}`);
    this.name = "HttpError";
    this.status = status;
    this.serverMessage = message;
  }
}

type Json = Record<string, unknown>;

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Creates a client for the queue at `url` (a qite handler's mount point, such as
 * `http://localhost:8080/queues/emails` on the standalone server, or a goqite handler for
 * goqite's four operations).
 *
 * @param url The queue's URL.
 * @param options Headers, a `fetch`, and the long-poll length.
 * @returns The client.
 * @throws {TypeError} If `url` is not an http(s) URL or an option has the wrong type.
 * @throws {RangeError} If `maxWait` is out of range.
 *
 * @example Working through a remote queue
 * ```ts
 * import { createClient, serve } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * await using server = await serve({ db: ":memory:", port: 0 });
 * const queue = createClient(`${server.url}/queues/reports`);
 * await queue.sendBatch([{ body: "a" }, { body: "b", priority: 1 }]);
 * const [first] = await queue.receiveBatch(1);
 * assert.equal(new TextDecoder().decode(first!.body), "b");
 * assert.equal(await queue.extend(first!, 60_000), true);
 * assert.equal((await queue.stats()).inFlight, 1);
 * ```
 */
export function createClient(url: string | URL, options: ClientOptions = {}): QueueClient {
  const action = "create client";
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new TypeError(`Cannot ${action} as 'url' must be a URL: current value is ${show(url)}`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError(
      `Cannot ${action} as 'url' must be an http or https URL: current value is ${base.href}`,
    );
  }
  checkObject(action, "options", options);
  if (base.search !== "" || base.hash !== "") {
    throw new TypeError(
      `Cannot ${action} as 'url' must be the queue's URL, with no query or fragment: current ` +
        `value is ${base.href}`,
    );
  }
  const {
    headers,
    maxWait = 20_000,
    timeout = 5000,
    maxReceive = 3,
    requestTimeout = 10_000,
  } = options;
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));
  if (typeof doFetch !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'fetch' must be a function: current value is ${show(doFetch)}`,
    );
  }
  checkInteger(action, "maxWait", maxWait, 1, 20_000);
  checkDuration(action, "timeout", timeout, 1);
  checkInteger(action, "maxReceive", maxReceive, 1);
  checkInteger(action, "requestTimeout", requestTimeout, 1, 2 ** 31 - 1);
  const root = base.href.replace(/\/+$/, "");
  let name: string;
  try {
    name = decodeURIComponent(root.slice(root.lastIndexOf("/") + 1));
  } catch {
    throw new TypeError(
      `Cannot ${action} as the queue name in 'url' is not percent-encoded UTF-8: current value ` +
        `is ${base.href}`,
    );
  }
  return new Client(root, name, new Headers(headers), doFetch, {
    maxWait,
    timeout,
    maxReceive,
    requestTimeout,
  });
}

class Client implements QueueClient {
  readonly url: string;
  readonly name: string;
  #headers: Headers;
  #fetch: (request: Request) => Promise<Response>;
  #maxWait: number;
  #timeout: number;
  #maxReceive: number;
  #closed = false;
  #requests = new Set<AbortController>();

  #requestTimeout: number;

  constructor(
    url: string,
    name: string,
    headers: Headers,
    fetcher: (request: Request) => Promise<Response>,
    settings: { maxWait: number; timeout: number; maxReceive: number; requestTimeout: number },
  ) {
    this.url = url;
    this.name = name;
    this.#headers = headers;
    this.#fetch = fetcher;
    this.#maxWait = settings.maxWait;
    this.#timeout = settings.timeout;
    this.#maxReceive = settings.maxReceive;
    this.#requestTimeout = settings.requestTimeout;
  }

  get timeout(): number {
    return this.#timeout;
  }

  get maxReceive(): number {
    return this.#maxReceive;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const controller of this.#requests) {
      controller.abort(new QueueError("CLOSED", "Cannot finish the request as the client closed"));
    }
    return Promise.resolve();
  }

  async send(message: SendMessage): Promise<MessageId | undefined> {
    const outgoing = parseMessage("send message", message, NO_LIMIT);
    const response = await this.#request("POST", "", { Message: toWire(outgoing) });
    return response.headers.get("qite-message-id") ?? undefined;
  }

  async sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]> {
    const action = "send messages";
    const list = parseList(action, "messages", messages, (a, m) => parseMessage(a, m, NO_LIMIT));
    if (list.length === 0) return [];
    const response = await this.#qite("sendBatch", "POST", "", { Messages: list.map(toWire) });
    return (await this.#json(response, "IDs", "sendBatch")).IDs as MessageId[];
  }

  async receive(): Promise<Message | undefined> {
    const response = await this.#request("GET", "");
    if (response.status === 204) return undefined;
    const { Message: wire } = await this.#json(response);
    return this.#single(response, wire as Json);
  }

  async receiveBatch(max: number): Promise<Message[]> {
    checkInteger("receive messages", "max", max, 1);
    return this.#messages(await this.#request("GET", `?max=${max}`));
  }

  async receiveAndWait(options: ReceiveAndWaitOptions = {}): Promise<Message> {
    return (await this.#wait("receive message", undefined, options))[0]!;
  }

  receiveBatchAndWait(max: number, options: ReceiveAndWaitOptions = {}): Promise<Message[]> {
    checkInteger("receive messages", "max", max, 1);
    return this.#wait("receive messages", max, options);
  }

  async extend(target: MessageId | Receipt, delay: number): Promise<boolean> {
    const parsed = toTarget("extend message", target);
    checkDuration("extend message", "delay", delay);
    const wire = { ...targetWire(parsed), Delay: wireDelay(delay) };
    return applied(await this.#request("PUT", "", { Message: wire }, [409]));
  }

  async extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]> {
    const parsed = parseList("extend messages", "targets", targets, toTarget);
    checkDuration("extend messages", "delay", delay);
    if (parsed.length === 0) return [];
    const Messages = parsed.map((target) => ({ ...targetWire(target), Delay: wireDelay(delay) }));
    const response = await this.#qite("extendBatch", "PUT", "", { Messages });
    return (await this.#json(response, "Results", "extendBatch")).Results as boolean[];
  }

  async deleteAndReceive(
    targets: readonly (MessageId | Receipt)[],
    max: number,
  ): Promise<DeleteAndReceiveResult> {
    const action = "delete and receive messages";
    parseList(action, "targets", targets, toTarget);
    checkInteger(action, "max", max, 1);
    const deleted = await this.deleteBatch(targets);
    return { deleted, messages: await this.receiveBatch(max) };
  }

  async release(receipt: Receipt, delay = 0): Promise<boolean> {
    this.#needsDelivery("release", [receipt]);
    return (await this.releaseBatch([toReceipt("release message", receipt)], delay))[0]!;
  }

  async releaseBatch(receipts: readonly Receipt[], delay = 0): Promise<boolean[]> {
    this.#needsDelivery("releaseBatch", receipts);
    const parsed = parseList("release messages", "receipts", receipts, toReceipt);
    checkDuration("release messages", "delay", delay);
    if (parsed.length === 0) return [];
    const Messages = parsed.map((target) => ({ ...targetWire(target), Delay: nanoseconds(delay) }));
    const response = await this.#qite("releaseBatch", "POST", "/release", { Messages });
    return (await this.#json(response, "Results", "releaseBatch")).Results as boolean[];
  }

  async bury(receipt: Receipt): Promise<boolean> {
    this.#needsDelivery("bury", [receipt]);
    const Messages = [targetWire(toReceipt("bury message", receipt))];
    const response = await this.#qite("bury", "POST", "/bury", { Messages });
    return ((await this.#json(response, "Results", "bury")).Results as [boolean])[0];
  }

  async delete(target: MessageId | Receipt): Promise<boolean> {
    const wire = targetWire(toTarget("delete message", target));
    return applied(await this.#request("DELETE", "", { Message: wire }, [409]));
  }

  async deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]> {
    const parsed = parseList("delete messages", "targets", targets, toTarget);
    if (parsed.length === 0) return [];
    const response = await this.#qite("deleteBatch", "DELETE", "", {
      Messages: parsed.map(targetWire),
    });
    return (await this.#json(response, "Results", "deleteBatch")).Results as boolean[];
  }

  async stats(): Promise<QueueStats> {
    const wire = await this.#json(await this.#qite("stats", "GET", "/stats"), "Total", "stats");
    return {
      total: wire.Total as number,
      visible: wire.Visible as number,
      inFlight: wire.InFlight as number,
      delayed: wire.Delayed as number,
      dead: wire.Dead as number,
      oldestVisibleAge: wire.OldestVisibleAge === null
        ? undefined
        : Math.round((wire.OldestVisibleAge as number) / 1e6),
    };
  }

  async peek(options: PeekOptions = {}): Promise<MessageInfo[]> {
    const { limit, state, bodyBytes } = checkPeekOptions("peek messages", options);
    const response = await this.#qite(
      "peek",
      "GET",
      `/peek?limit=${limit}${state === "visible" ? "" : `&state=${state}`}${
        bodyBytes === undefined ? "" : `&bodyBytes=${bodyBytes}`
      }`,
    );
    const wire = await this.#json(response, "Messages", "peek");
    return (wire.Messages as Json[]).map(fromInfoWire);
  }

  async listDead(options: ListDeadOptions = {}): Promise<DeadPage> {
    checkObject("list dead messages", "options", options);
    const { limit = 100, cursor, bodyBytes } = options;
    checkInteger("list dead messages", "limit", limit, 1);
    if (cursor !== undefined) checkName("list dead messages", "cursor", cursor);
    checkBodyBytes("list dead messages", bodyBytes);
    const query = `?limit=${limit}${
      cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`
    }${bodyBytes === undefined ? "" : `&bodyBytes=${bodyBytes}`}`;
    const wire = await this.#json(await this.#qite("listDead", "GET", `/dead${query}`), "Messages");
    return {
      messages: (wire.Messages as Json[]).map(fromInfoWire),
      cursor: (wire.Cursor as string | null) ?? undefined,
    };
  }

  async countDead(): Promise<number> {
    const response = await this.#qite("countDead", "GET", "/dead/count");
    return (await this.#json(response, "Count", "countDead")).Count as number;
  }

  async redrive(ids?: MessageId | readonly MessageId[]): Promise<number> {
    const list = ids === undefined ? undefined : Array.isArray(ids) ? ids : [ids];
    if (list !== undefined) {
      parseList("redrive messages", "ids", list, (entry, id) => {
        checkName(entry, "id", id);
        return id;
      });
    }
    const body = list === undefined ? undefined : { IDs: list };
    const response = await this.#qite("redrive", "POST", "/dead/redrive", body);
    return (await this.#json(response, "Count", "redrive")).Count as number;
  }

  async purgeDead(): Promise<number> {
    const response = await this.#qite("purgeDead", "DELETE", "/dead");
    return (await this.#json(response, "Count", "purgeDead")).Count as number;
  }

  async purge(): Promise<number> {
    const response = await this.#qite("purge", "POST", "/purge");
    return (await this.#json(response, "Count", "purge")).Count as number;
  }

  /** Long polls until messages arrive (`max` undefined: goqite's single-message form). */
  async #wait(
    action: string,
    max: number | undefined,
    options: ReceiveAndWaitOptions,
  ): Promise<Message[]> {
    checkObject(action, "options", options);
    const { signal, interval = 100 } = options;
    checkSignal(action, signal);
    checkPositive(action, "interval", interval, 2 ** 31 - 1);
    const wait = `${this.#maxWait}ms`;
    const every = `${Math.max(1, Math.round(Math.min(interval, this.#maxWait) * 1e6))}ns`;
    const query = `?timeout=${wait}&interval=${every}${max === undefined ? "" : `&max=${max}`}`;
    let early = 0;
    while (true) {
      signal?.throwIfAborted();
      const started = Date.now();
      let response: Response;
      try {
        response = await this.#request("GET", query, undefined, [], signal, this.#maxWait);
      } catch (error) {
        signal?.throwIfAborted();
        throw error;
      }
      if (response.status !== 204) {
        if (max === undefined) {
          const { Message: wire } = await this.#json(response, "Message", "receiveAndWait");
          return [this.#single(response, wire as Json)];
        }
        // A 200 with no message is no answer to a long poll: wait on, as after a 204.
        const messages = await this.#messages(response);
        if (messages.length > 0) return messages;
      }
      // A poll that ends well before its timeout (a server shutting down, or one that does not
      // long-poll) is not retried at once: the pauses grow, jittered, up to MAX_BACKOFF_MS.
      if (Date.now() - started < this.#maxWait / 2) await pause(backoff(++early), signal);
      else early = 0;
    }
  }

  async #messages(response: Response): Promise<Message[]> {
    if (response.status === 204) return [];
    this.#learn(response);
    const wire = await this.#json(response);
    if (wire.Messages === undefined && wire.Message !== undefined) {
      // goqite's handler knows no ?max= and answers with its single message.
      return [this.#single(response, wire.Message as Json)];
    }
    return (wire.Messages as Json[]).map((m) =>
      fromWire(m, m.Received as number, (m.Delivery as string | undefined) ?? "")
    );
  }

  /** A single received message: goqite's JSON, with qite's receipt in the headers. */
  #single(response: Response, wire: Json): Message {
    this.#learn(response);
    const headers = response.headers;
    return fromWire(
      wire,
      Number(headers.get("qite-received") ?? 1),
      headers.get("qite-delivery") ?? "",
    );
  }

  /** Takes the queue's settings from a qite server's answer. */
  #learn(response: Response): void {
    const timeout = Number(response.headers.get("qite-timeout"));
    const maxReceive = Number(response.headers.get("qite-max-receive"));
    if (Number.isSafeInteger(timeout) && timeout >= 1) this.#timeout = timeout;
    if (Number.isSafeInteger(maxReceive) && maxReceive >= 1) this.#maxReceive = maxReceive;
  }

  /**
   * Sends a request that only qite's handler understands, so that goqite's handler refuses it
   * before it touches the queue: a GET carries `timeout=qite-only`, which qite's extension
   * routes ignore and goqite's handler refuses (400) before it receives; a body carries
   * `"Message": false`, which qite's handler takes as this mark beside qite's keys and goqite's
   * refuses (400: it cannot decode `false` as its `Message`) before it sends, extends or deletes
   * anything (a body without it would reach goqite's send as a message with a nil body, which
   * goqite on PostgreSQL through lib/pq stores as an empty message); a request without a body
   * is refused for its missing JSON. An answer in goqite's words becomes an `HttpError` saying
   * that `method` needs a qite server.
   */
  async #qite(
    method: string,
    verb: string,
    path: string,
    body?: unknown,
  ): Promise<Response> {
    const target = verb === "GET"
      ? `${path}${path.includes("?") ? "&" : "?"}timeout=qite-only`
      : path;
    try {
      return await this.#request(
        verb,
        target,
        body === undefined ? undefined : { Message: false, ...(body as Record<string, unknown>) },
      );
    } catch (error) {
      if (error instanceof HttpError && GOQITE_ANSWER.test(error.serverMessage)) {
        throw new HttpError(
          error.status,
          `${error.serverMessage} (${method} needs a qite server; this one answered as goqite's handler does)`,
        );
      }
      if (error instanceof HttpError && (error.status === 404 || error.status === 405)) {
        // goqite's handler mounted on an exact path: its router knows no sub-path or method.
        throw new HttpError(
          error.status,
          `${error.serverMessage} (${method} needs a qite server at ${this.url})`,
        );
      }
      throw error;
    }
  }

  /**
   * A message from a server that gives no delivery token (goqite's) cannot be released or
   * buried: only a qite server can do that, and it gave none.
   */
  #needsDelivery(method: string, receipts: readonly unknown[]): void {
    if (!Array.isArray(receipts)) return; // misuse: the argument checks say what is wrong
    const bare = receipts.some((receipt) =>
      typeof receipt === "object" && receipt !== null &&
      (receipt as Partial<Receipt>).delivery === ""
    );
    if (bare) {
      throw new QueueError(
        "UNSUPPORTED",
        `Cannot ${method} as it needs a qite server: ${this.url} gave no delivery token ` +
          "(goqite's handler gives none)",
      );
    }
  }

  /** Sends a request; answers outside 2xx (and `accept`) throw `HttpError`. */
  async #request(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
    signal?: AbortSignal,
    waitMs = 0,
  ): Promise<Response> {
    if (this.#closed) {
      throw new QueueError(
        "CLOSED",
        `Cannot send a request to ${this.url} as the client is closed`,
      );
    }
    const headers = new Headers(this.#headers);
    if (body !== undefined) headers.set("content-type", "application/json");
    const closing = new AbortController();
    this.#requests.add(closing);
    const request = new Request(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: goJson(body) }),
      signal: signal === undefined ? closing.signal : AbortSignal.any([signal, closing.signal]),
    });
    const limit = waitMs + this.#requestTimeout;
    const timer = setTimeout(() =>
      closing.abort(
        new QueueError("NETWORK", `Cannot get an answer from ${this.url} within ${limit} ms`),
      ), limit);
    let response: Response;
    try {
      response = await this.#fetch(request);
    } catch (error) {
      if (closing.signal.aborted) throw closing.signal.reason;
      if (signal?.aborted) throw error;
      throw new QueueError("NETWORK", `Cannot reach ${this.url}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      this.#requests.delete(closing);
    }
    if (response.ok || accept.includes(response.status)) return response;
    const message = (await response.text().catch(() => "")).trim();
    throw new HttpError(response.status, message || response.statusText);
  }

  /** Reads a JSON answer; with `key`, one that must hold it (else: not a qite server). */
  async #json(response: Response, key?: string, method: string = key ?? ""): Promise<Json> {
    let wire: Json;
    try {
      // qite's own reader: a priority beyond 2^53 stays exact (a bigint), as the queue gives it.
      wire = toPlain(parseFirstJson(await response.text(), ANSWER_LIMITS) ?? null) as Json;
    } catch (error) {
      throw new QueueError("NETWORK", `Cannot read the answer of ${this.url} as JSON`, {
        cause: error,
      });
    }
    if (key !== undefined && (typeof wire !== "object" || wire === null || !(key in wire))) {
      throw new HttpError(
        response.status,
        `the answer has no ${key} (${method} needs a qite server)`,
      );
    }
    return wire;
  }
}

/** goqite's handler's own 4xx/5xx texts: a qite-only request reached goqite. */
const GOQITE_ANSWER = new RegExp(
  "^(error parsing timeout parameter: |error sending message: |error decoding request: EOF$|" +
    "error decoding request: json: cannot unmarshal bool into Go struct field request\\.Message |" +
    "ID cannot be empty$|delay cannot be negative$)",
);

/** Milliseconds as Go nanoseconds, exact beyond 2^53 (a bigint when it is not safe). */
function nanoseconds(ms: number): number | bigint {
  const ns = ms * 1_000_000;
  return Number.isSafeInteger(ns) ? ns : BigInt(ms) * 1_000_000n;
}

/** The first pause after a long poll that ended early, in milliseconds; it doubles each time. */
const FIRST_BACKOFF_MS = 50;
/** The longest pause between long polls that end early. */
const MAX_BACKOFF_MS = 5000;

/** The pause before the `n`th early retry in a row: between half and all of the doubled step. */
function backoff(n: number): number {
  const step = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(n - 1, 20));
  return step / 2 + Math.random() * (step / 2);
}

/**
 * An extension's delay on the wire: goqite's PUT refuses a delay of 0, so 0 ms is sent as 1 ns,
 * which a qite server rounds up to 1 ms: visible again at once, as the local queue's `extend`
 * with 0 makes it.
 */
function wireDelay(ms: number): number | bigint {
  return ms === 0 ? 1 : nanoseconds(ms);
}

function toWire([body, delay, priority]: Outgoing): Json {
  return { Body: encodeBase64(body), Delay: nanoseconds(delay), Priority: priority };
}

function targetWire(target: { id: string; delivery?: string }): Json {
  return target.delivery === undefined
    ? { ID: target.id }
    : { ID: target.id, Delivery: target.delivery };
}

function applied(response: Response): boolean {
  return response.status !== 409 && response.headers.get("qite-applied") !== "false";
}

function fromWire(wire: Json, received: number, delivery: string): Message {
  if (typeof wire?.ID !== "string") throw new QueueError("NETWORK", "The answer holds no message");
  return {
    id: wire.ID,
    delivery,
    body: base64ToBytes(wire.Body ?? "", "Body"),
    received,
    priority: (wire.Priority as number | bigint | undefined) ?? 0,
  };
}

function fromInfoWire(wire: Json): MessageInfo {
  const message = fromWire(
    wire,
    wire.Received as number,
    (wire.Delivery as string | undefined) ?? "",
  );
  return {
    ...message,
    created: new Date(wire.Created as string),
    timeout: new Date(wire.Timeout as string),
    // A server before Size had whole bodies only.
    size: typeof wire.Size === "number" ? wire.Size : message.body.length,
  };
}
