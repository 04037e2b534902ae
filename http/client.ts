/**
 * A typed client for a queue served by qite's (or goqite's) HTTP handler.
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
import type { ListDeadOptions, PeekOptions, ReceiveAndWaitOptions } from "../src/sqlite/queue.ts";
import { checkDuration, type Outgoing, parseList, parseMessage, toTarget } from "../src/_input.ts";
import {
  checkInteger,
  checkName,
  checkObject,
  checkPositive,
  checkSignal,
  show,
} from "../src/_validate.ts";
import { base64ToBytes, encodeBase64 } from "./_wire.ts";

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
}

/**
 * A remote queue with the methods of {@linkcode Queue}, so that a worker can use a queue over
 * HTTP as it would use a local one. Misuse throws `TypeError`/`RangeError` before any request;
 * an error answer throws {@linkcode HttpError} (code `HTTP`) with the status and the server's
 * message, and no answer at all a `QueueError` with code `NETWORK`.
 */
export interface QueueClient {
  /** The queue's URL. */
  readonly url: string;
  /** Like {@linkcode Queue.send}. */
  send(message: SendMessage): Promise<MessageId>;
  /** Like {@linkcode Queue.sendBatch}. */
  sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]>;
  /** Like {@linkcode Queue.receive}. */
  receive(): Promise<Message | undefined>;
  /** Like {@linkcode Queue.receiveBatch}. */
  receiveBatch(max: number): Promise<Message[]>;
  /** Like {@linkcode Queue.receiveAndWait}: long polls until a message arrives. */
  receiveAndWait(options?: ReceiveAndWaitOptions): Promise<Message>;
  /** Like {@linkcode Queue.receiveBatchAndWait}. */
  receiveBatchAndWait(max: number, options?: ReceiveAndWaitOptions): Promise<Message[]>;
  /** Like {@linkcode Queue.extend}: `false` when a fenced extend found another delivery. */
  extend(target: MessageId | Receipt, delay: number): Promise<boolean>;
  /** Like {@linkcode Queue.extendBatch}. */
  extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]>;
  /** Like {@linkcode Queue.delete}: `false` when a fenced delete found another delivery. */
  delete(target: MessageId | Receipt): Promise<boolean>;
  /** Like {@linkcode Queue.deleteBatch}. */
  deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]>;
  /** Like {@linkcode Queue.stats}. */
  stats(): Promise<QueueStats>;
  /** Like {@linkcode Queue.peek}. */
  peek(options?: PeekOptions): Promise<MessageInfo[]>;
  /** Like {@linkcode Queue.listDead}. */
  listDead(options?: ListDeadOptions): Promise<DeadPage>;
  /** Like {@linkcode Queue.countDead}. */
  countDead(): Promise<number>;
  /** Like {@linkcode Queue.redrive}. */
  redrive(ids?: MessageId | readonly MessageId[]): Promise<number>;
  /** Like {@linkcode Queue.purgeDead}. */
  purgeDead(): Promise<number>;
  /** Like {@linkcode Queue.purge}. */
  purge(): Promise<number>;
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

  /**
   * @param status The HTTP status.
   * @param message The server's message.
   */
  constructor(status: number, message: string) {
    super("HTTP", `The server answered ${status}: ${message}`);
    this.name = "HttpError";
    this.status = status;
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
  const { headers, maxWait = 20_000 } = options;
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));
  if (typeof doFetch !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'fetch' must be a function: current value is ${show(doFetch)}`,
    );
  }
  checkInteger(action, "maxWait", maxWait, 1, 20_000);
  const root = base.href.replace(/\/+$/, "");
  return new Client(root, new Headers(headers), doFetch, maxWait);
}

class Client implements QueueClient {
  readonly url: string;
  #headers: Headers;
  #fetch: (request: Request) => Promise<Response>;
  #maxWait: number;

  constructor(
    url: string,
    headers: Headers,
    fetcher: (request: Request) => Promise<Response>,
    maxWait: number,
  ) {
    this.url = url;
    this.#headers = headers;
    this.#fetch = fetcher;
    this.#maxWait = maxWait;
  }

  async send(message: SendMessage): Promise<MessageId> {
    const outgoing = parseMessage("send message", message, NO_LIMIT);
    const response = await this.#request("POST", "", { Message: toWire(outgoing) });
    return response.headers.get("qite-message-id") ?? "";
  }

  async sendBatch(messages: readonly SendMessage[]): Promise<MessageId[]> {
    const action = "send messages";
    const list = parseList(action, "messages", messages, (a, m) => parseMessage(a, m, NO_LIMIT));
    if (list.length === 0) return [];
    const response = await this.#request("POST", "", { Messages: list.map(toWire) });
    return (await this.#json(response)).IDs as MessageId[];
  }

  async receive(): Promise<Message | undefined> {
    const response = await this.#request("GET", "");
    if (response.status === 204) return undefined;
    const { Message: wire } = await this.#json(response);
    return fromWire(wire as Json, Number(response.headers.get("qite-received") ?? 1));
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
    const wire = { ...targetWire(parsed), Delay: nanoseconds(delay) };
    return applied(await this.#request("PUT", "", { Message: wire }, [409]));
  }

  async extendBatch(targets: readonly (MessageId | Receipt)[], delay: number): Promise<boolean[]> {
    const parsed = parseList("extend messages", "targets", targets, toTarget);
    checkDuration("extend messages", "delay", delay);
    if (parsed.length === 0) return [];
    const Messages = parsed.map((target) => ({ ...targetWire(target), Delay: nanoseconds(delay) }));
    return (await this.#json(await this.#request("PUT", "", { Messages }))).Results as boolean[];
  }

  async delete(target: MessageId | Receipt): Promise<boolean> {
    const wire = targetWire(toTarget("delete message", target));
    return applied(await this.#request("DELETE", "", { Message: wire }, [409]));
  }

  async deleteBatch(targets: readonly (MessageId | Receipt)[]): Promise<boolean[]> {
    const parsed = parseList("delete messages", "targets", targets, toTarget);
    if (parsed.length === 0) return [];
    const response = await this.#request("DELETE", "", { Messages: parsed.map(targetWire) });
    return (await this.#json(response)).Results as boolean[];
  }

  async stats(): Promise<QueueStats> {
    const wire = await this.#json(await this.#request("GET", "/stats"));
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
    checkObject("peek messages", "options", options);
    const { limit = 10 } = options;
    checkInteger("peek messages", "limit", limit, 1);
    const wire = await this.#json(await this.#request("GET", `/peek?limit=${limit}`));
    return (wire.Messages as Json[]).map(fromInfoWire);
  }

  async listDead(options: ListDeadOptions = {}): Promise<DeadPage> {
    checkObject("list dead messages", "options", options);
    const { limit = 100, cursor } = options;
    checkInteger("list dead messages", "limit", limit, 1);
    if (cursor !== undefined) checkName("list dead messages", "cursor", cursor);
    const query = `?limit=${limit}${
      cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`
    }`;
    const wire = await this.#json(await this.#request("GET", `/dead${query}`));
    return {
      messages: (wire.Messages as Json[]).map(fromInfoWire),
      cursor: (wire.Cursor as string | null) ?? undefined,
    };
  }

  async countDead(): Promise<number> {
    return (await this.#json(await this.#request("GET", "/dead/count"))).Count as number;
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
    return (await this.#json(await this.#request("POST", "/dead/redrive", body))).Count as number;
  }

  async purgeDead(): Promise<number> {
    return (await this.#json(await this.#request("DELETE", "/dead"))).Count as number;
  }

  async purge(): Promise<number> {
    return (await this.#json(await this.#request("POST", "/purge"))).Count as number;
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
        response = await this.#request("GET", query, undefined, [], signal);
      } catch (error) {
        signal?.throwIfAborted();
        throw error;
      }
      if (response.status === 204) {
        // A poll that ends well before its timeout (a server shutting down, or one that does not
        // long-poll) is not retried at once: the pauses grow, jittered, up to MAX_BACKOFF_MS.
        if (Date.now() - started < this.#maxWait / 2) await pause(backoff(++early), signal);
        else early = 0;
        continue;
      }
      if (max !== undefined) return this.#messages(response);
      const { Message: wire } = await this.#json(response);
      return [fromWire(wire as Json, Number(response.headers.get("qite-received") ?? 1))];
    }
  }

  async #messages(response: Response): Promise<Message[]> {
    if (response.status === 204) return [];
    const wire = await this.#json(response);
    return (wire.Messages as Json[]).map((m) => fromWire(m, m.Received as number));
  }

  /** Sends a request; answers outside 2xx (and `accept`) throw `HttpError`. */
  async #request(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers = new Headers(this.#headers);
    if (body !== undefined) headers.set("content-type", "application/json");
    const request = new Request(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
    let response: Response;
    try {
      response = await this.#fetch(request);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new QueueError("NETWORK", `Cannot reach ${this.url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.ok || accept.includes(response.status)) return response;
    const message = (await response.text().catch(() => "")).trim();
    throw new HttpError(response.status, message || response.statusText);
  }

  async #json(response: Response): Promise<Json> {
    try {
      return await response.json() as Json;
    } catch (error) {
      throw new QueueError("NETWORK", `Cannot read the answer of ${this.url} as JSON`, {
        cause: error,
      });
    }
  }
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

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      if (signal?.aborted) reject(signal.reason);
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function nanoseconds(ms: number): number {
  return ms * 1_000_000;
}

function toWire([body, delay, priority]: Outgoing): Json {
  return { Body: encodeBase64(body), Delay: nanoseconds(delay), Priority: priority };
}

function targetWire(target: { id: string; received?: number }): Json {
  return target.received === undefined
    ? { ID: target.id }
    : { ID: target.id, Received: target.received };
}

function applied(response: Response): boolean {
  return response.status !== 409 && response.headers.get("qite-applied") !== "false";
}

function fromWire(wire: Json, received: number): Message {
  if (typeof wire?.ID !== "string") throw new QueueError("NETWORK", "The answer holds no message");
  return {
    id: wire.ID,
    body: base64ToBytes(wire.Body ?? "", "Body"),
    received,
    priority: (wire.Priority as number | undefined) ?? 0,
  };
}

function fromInfoWire(wire: Json): MessageInfo {
  return {
    ...fromWire(wire, wire.Received as number),
    created: new Date(wire.Created as string),
    timeout: new Date(wire.Timeout as string),
  };
}
