/**
 * The web dashboard: every queue's counts and throughput, each queue's messages, and the
 * operator's actions (send, delete, redrive, purge dead messages), as one Web-standard handler
 * with its page inline: no build step, no external assets.
 *
 * @module
 */

import { crossSiteReason } from "./_cross_site.ts";
import { QueueError } from "../src/errors.ts";
import { describeError, log, type Logger } from "../src/logger.ts";
import type { QueueLike } from "../src/queue_like.ts";
import { checkInteger, show } from "../src/_validate.ts";
import { MAX_DURATION_MS } from "../src/_time.ts";
import { messageView, statsView, VIEW_BODY_BYTES, visibleText } from "./_dashboard_view.ts";
import { renderLogin, renderShell } from "./_dashboard_page.ts";
import { randomToken, sameSecret, sameToken } from "./_secret.ts";
import { type Handler, type HandlerOptions, readBody } from "./handler.ts";
import type { Throughput } from "./throughput.ts";

/**
 * Where the dashboard finds queues: a database's list of queue names and a queue by name. The
 * router provides one for SQLite; any engine can provide its own.
 */
export interface QueueSource {
  /** The names of the queues to show, in the order to show them. */
  list(): Promise<string[]>;
  /**
   * The queue of that name (it may hold no messages yet). It may throw `TypeError` or
   * `RangeError` for a name it refuses; the dashboard answers 400.
   */
  queue(name: string): QueueLike;
  /**
   * Whether the send form may send to a queue of this name (and so create it): the router
   * takes only the names its routes serve. Every name the dashboard takes when absent.
   */
  accepts?(name: string): boolean;
}

/** Options for {@linkcode createDashboard}. */
export interface DashboardOptions {
  /**
   * Shows everything and allows no action: the page has no action controls, and every action
   * is answered with 403.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Decides whether a request may see a page or take an action, before anything else: `true`
   * lets it through, `false` answers 403, and a `Response` is sent as it is (the handler's
   * `authorize` semantics). What it throws is logged and answered with 500.
   */
  authorize?: HandlerOptions["authorize"];
  /**
   * A secret that guards the dashboard: a browser signs in once with a form (the token is
   * compared in constant time) and then holds a session cookie (`HttpOnly`,
   * `SameSite=Strict`, `Secure` over HTTPS); a script may send `Authorization: Bearer <token>`
   * instead. Without it, the dashboard is open to whoever `authorize` lets through.
   */
  token?: string;
  /**
   * Where the sparklines come from: the counter the handler's or router's `onOperation` records
   * into. The dashboard records its own sends and deletes into it too. Without it, the
   * overview shows no sparklines.
   */
  throughput?: Throughput;
  /**
   * The path the dashboard is mounted at, without a trailing slash (`""` for the root,
   * `"/admin/queues"`). By default each request's own path tells: the dashboard's routes are
   * one segment below the mount point, and its pages link to each other relatively.
   */
  basePath?: string;
  /**
   * How often, in milliseconds, the page asks for fresh counts (the page has a pause control).
   *
   * @default {1000}
   */
  refreshInterval?: number;
  /**
   * How many messages each table of a queue's page shows (dead messages page by this many).
   *
   * @default {20}
   */
  pageSize?: number;
  /**
   * The largest message body, in bytes, the send form accepts.
   *
   * @default {1048576}
   */
  maxBodySize?: number;
  /**
   * How long a sign-in lasts, in milliseconds.
   *
   * @default {43200000}
   */
  sessionTtl?: number;
  /**
   * The name in the page's header and title.
   *
   * @default {"qite"}
   */
  title?: string;
  /** Where causes of 5xx answers are logged; silent by default. */
  logger?: Logger;
}

/** The dashboard's settings and state. */
interface Board {
  readonly source: QueueSource;
  readonly readOnly: boolean;
  readonly authorize: HandlerOptions["authorize"];
  readonly token: string | undefined;
  readonly throughput: Throughput | undefined;
  readonly basePath: string | undefined;
  readonly interval: number;
  readonly pageSize: number;
  readonly maxBodySize: number;
  readonly sessionTtl: number;
  readonly title: string;
  readonly logger: Logger | undefined;
  /** Signed-in sessions by id. */
  readonly sessions: Map<string, Session>;
  /** The CSRF token of requests without a session (an open dashboard, the sign-in form). */
  readonly csrf: string;
  /** Times of recent failed sign-ins. */
  readonly failures: number[];
}

interface Session {
  readonly expires: number;
  readonly csrf: string;
  /** The session id, or `undefined` for a bearer token or an open dashboard. */
  readonly id: string | undefined;
}

/** A client's mistake, answered with its status and message. */
class Refusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The dashboard's routes, one segment below the mount point, and their methods. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  "": ["GET"],
  queue: ["GET"],
  "overview.json": ["GET"],
  "queue.json": ["GET"],
  login: ["GET", "POST"],
  logout: ["POST"],
  send: ["POST"],
  delete: ["POST"],
  redrive: ["POST"],
  "purge-dead": ["POST"],
};
const ACTIONS: ReadonlySet<string> = new Set(["send", "delete", "redrive", "purge-dead"]);
const COOKIE = "qite_session";
const MAX_SESSIONS = 10_000;
/** Failed sign-ins allowed per minute before the form answers 429. */
const MAX_FAILURES = 10;
/** The sparklines' width in seconds. */
const SPARK_SECONDS = 60;
/**
 * The longest queue name a page opens, as the characters of its percent-encoded form: it travels
 * in the page's address, and servers refuse long request lines (Node: 16 KiB of headers).
 */
const MAX_ENCODED_NAME = 8000;

/** Whether a queue's page can be opened: its name fits in an address. */
function opens(name: string): boolean {
  return name !== "" && encodeURIComponent(name).length <= MAX_ENCODED_NAME;
}
const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/**
 * Creates the web dashboard: a plain `(request: Request) => Promise<Response>` to mount under any
 * path (requests below the mount point go to it with their full URL).
 *
 * What it shows: an overview of every queue from `source` with its total, visible, in-flight,
 * delayed and dead counts, the age of its oldest visible message and a sparkline of sends and
 * deletes per second over the last minute, refreshed every second (with a pause control); and a
 * page per queue with its next visible messages, its delayed and in-flight messages and its dead
 * messages page by page (id, priority, receive count, created, size, a preview of the body as
 * text or hex, and the job's name for jobs), where an operator can send a message, delete one,
 * redrive one or all dead messages, and purge the dead ones.
 *
 * How it is guarded: `authorize` runs first on every request, then `token` (a sign-in form and
 * an `HttpOnly`, `SameSite=Strict` session cookie, or a bearer token). Every action is a POST
 * that must come from the dashboard's own origin (`Sec-Fetch-Site` and `Origin` are checked when
 * the browser sends them) and carry the page's CSRF token; `readOnly` refuses them all. Pages
 * carry a strict Content-Security-Policy (no inline code but the page's own, by nonce), and
 * everything a queue holds is rendered as text, never as HTML.
 *
 * @param source Where the queues come from.
 * @param options Read-only mode, authorization, the throughput counter and the page's settings.
 * @returns The handler.
 * @throws {TypeError} If `source` is not a queue source or an option has the wrong type.
 * @throws {RangeError} If a number is out of range.
 *
 * @example A dashboard next to a queue's handler, with sparklines and a token
 * ```ts
 * import { listQueues, open, Queue, setup } from "@qite/qite";
 * import { createDashboard, createHandler, Throughput } from "@qite/qite/http";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const throughput = new Throughput(); // sends, receives and deletes per queue and second
 * const emails = createHandler(new Queue({ db, name: "emails" }), {
 *   onOperation: throughput.record,
 * });
 * const dashboard = createDashboard(
 *   { list: () => listQueues(db), queue: (name) => new Queue({ db, name }) },
 *   { throughput, token: "s3cret" },
 * );
 * // Deno.serve((request) =>
 * //   new URL(request.url).pathname.startsWith("/admin/") ? dashboard(request) : emails(request));
 *
 * const body = JSON.stringify({ Message: { Body: btoa("hello") } });
 * await emails(new Request("http://localhost/", { method: "POST", body }));
 *
 * const signIn = await dashboard(new Request("http://localhost/admin/"));
 * assert.equal(signIn.status, 303); // to the sign-in form, "login"
 * const overview = await dashboard(
 *   new Request("http://localhost/admin/overview.json", {
 *     headers: { authorization: "Bearer s3cret" },
 *   }),
 * );
 * const { queues } = await overview.json();
 * assert.equal(queues[0].name, "emails");
 * assert.equal(queues[0].visible, 1);
 * ```
 */
export function createDashboard(source: QueueSource, options: DashboardOptions = {}): Handler {
  const board = boardOf(source, options);
  const handle = (request: Request): Promise<Response> =>
    answer(board, request).catch((error) => failure(board, request, error));
  return async (request: Request): Promise<Response> => {
    if (request.method !== "HEAD") return await handle(request);
    // HEAD: the GET's status and headers, without its body.
    const got = await handle(new Request(request, { method: "GET" }));
    await got.body?.cancel();
    return new Response(null, {
      status: got.status,
      statusText: got.statusText,
      headers: got.headers,
    });
  };
}

function boardOf(source: QueueSource, options: DashboardOptions): Board {
  const action = "create dashboard";
  if (
    typeof source !== "object" || source === null || typeof source.list !== "function" ||
    typeof source.queue !== "function" ||
    (source.accepts !== undefined && typeof source.accepts !== "function")
  ) {
    throw new TypeError(
      `Cannot ${action} as 'source' must have list() and queue(name), and accepts(name) if any: current value is ${
        show(source)
      }`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
    );
  }
  const {
    readOnly = false,
    authorize,
    token,
    throughput,
    basePath,
    refreshInterval = 1000,
    pageSize = 20,
    maxBodySize = 1024 * 1024,
    sessionTtl = 12 * 60 * 60 * 1000,
    title = "qite",
    logger,
  } = options;
  const fail = (name: string, rule: string, value: unknown): never => {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be ${rule}: current value is ${show(value)}`,
    );
  };
  if (typeof readOnly !== "boolean") fail("readOnly", "a boolean", readOnly);
  if (authorize !== undefined && typeof authorize !== "function") {
    fail("authorize", "a function", authorize);
  }
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    fail("token", "a non-empty string", token);
  }
  if (throughput !== undefined && typeof throughput?.series !== "function") {
    fail("throughput", "a Throughput", throughput);
  }
  if (
    basePath !== undefined &&
    (typeof basePath !== "string" || !/^(\/[^/?#]+)*$/.test(basePath))
  ) {
    fail("basePath", 'a path such as "/admin" or "" (no trailing slash)', basePath);
  }
  if (typeof title !== "string") fail("title", "a string", title);
  if (logger !== undefined && typeof logger?.info !== "function") {
    fail("logger", "a logger", logger);
  }
  checkInteger(action, "refreshInterval", refreshInterval, 100, 2000);
  checkInteger(action, "pageSize", pageSize, 1, 1000);
  checkInteger(action, "maxBodySize", maxBodySize, 0, 1_000_000_000);
  checkInteger(action, "sessionTtl", sessionTtl, 1000);
  return {
    source,
    readOnly,
    authorize,
    token,
    throughput,
    basePath,
    interval: refreshInterval,
    pageSize,
    maxBodySize,
    sessionTtl,
    title,
    logger,
    sessions: new Map(),
    csrf: randomToken(),
    failures: [],
  };
}

/** The mount point and the route of a path, or `undefined` when it is not the dashboard's. */
function locate(board: Board, pathname: string): { base: string; route: string } | undefined {
  let base: string;
  let route: string;
  if (board.basePath !== undefined) {
    if (!pathname.startsWith(`${board.basePath}/`)) return undefined;
    base = board.basePath;
    route = pathname.slice(base.length + 1);
  } else {
    const slash = pathname.lastIndexOf("/");
    base = pathname.slice(0, slash);
    route = pathname.slice(slash + 1);
  }
  return Object.hasOwn(ROUTES, route) ? { base, route } : undefined;
}

async function answer(board: Board, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const where = locate(board, url.pathname);
  if (where === undefined) {
    if (board.basePath !== undefined && board.basePath !== "" && url.pathname === board.basePath) {
      // The mount point without its slash: the page's relative links need the slash.
      return new Response(null, { status: 308, headers: { location: `${board.basePath}/` } });
    }
    return text(404, "not found");
  }
  const { base, route } = where;
  if (board.authorize !== undefined) {
    let verdict: boolean | Response;
    try {
      verdict = await board.authorize(request);
    } catch (error) {
      log(board.logger, "The dashboard's authorize hook threw", { error: describeError(error) });
      return text(500, "internal server error");
    }
    if (verdict instanceof Response) return verdict;
    if (verdict !== true) return text(403, "forbidden");
  }
  const method = request.method;
  const allowed = ROUTES[route]!;
  if (!allowed.includes(method)) {
    const allow = allowed.includes("GET") ? [...allowed, "HEAD"] : allowed;
    return text(405, `method ${method} is not allowed here`, { allow: allow.join(", ") });
  }
  if (method === "POST") {
    const refused = crossSite(request, url);
    if (refused !== undefined) return refused;
  }
  if (route === "login") return login(board, request, base, url);
  const session = await sessionOf(board, request);
  if (session === undefined) return signInFirst(route, url);
  if (method === "GET") {
    if (route === "overview.json") return overview(board);
    if (route === "queue.json") return queuePage(board, url.searchParams);
    return page(board, session);
  }
  const form = await readForm(board, request);
  if (form instanceof Response) return form;
  if (session.id !== undefined || board.token === undefined) {
    // A bearer token cannot be sent by a cross-site form; a cookie or an open dashboard can.
    if (!sameToken(form.get("csrf") ?? request.headers.get("x-qite-csrf") ?? "", session.csrf)) {
      return jsonError(403, "the CSRF token is missing or wrong: reload the page");
    }
  }
  if (route === "logout") return logout(board, session, base);
  if (board.readOnly && ACTIONS.has(route)) {
    return jsonError(403, "the dashboard is read-only");
  }
  return act(board, route, form);
}

/**
 * Refuses a POST that a browser says comes from another origin (see {@linkcode crossSiteReason});
 * a client that is not a browser (curl) still needs the CSRF token or a bearer token.
 */
function crossSite(request: Request, url: URL): Response | undefined {
  const reason = crossSiteReason(request, url);
  return reason === undefined ? undefined : jsonError(403, reason);
}

/** The request's session: always one for an open dashboard; `undefined` when it must sign in. */
async function sessionOf(board: Board, request: Request): Promise<Session | undefined> {
  if (board.token === undefined) return { expires: Infinity, csrf: board.csrf, id: undefined };
  // A bearer token decides alone; another scheme (Basic, for a proxy in front) is not ours, and
  // the session cookie still counts.
  const bearer = /^Bearer +(.+)$/i.exec(request.headers.get("authorization") ?? "");
  if (bearer !== null) {
    return await sameSecret(bearer[1]!, board.token)
      ? { expires: Infinity, csrf: board.csrf, id: undefined }
      : undefined;
  }
  const id = cookie(request, COOKIE);
  if (id === undefined) return undefined;
  const session = board.sessions.get(id);
  if (session === undefined) return undefined;
  if (session.expires <= Date.now()) {
    board.sessions.delete(id);
    return undefined;
  }
  return session;
}

function signInFirst(route: string, url: URL): Response {
  if (route === "" || route === "queue") {
    const next = `${route}${url.search}`;
    const location = next === "" ? "login" : `login?next=${encodeURIComponent(next)}`;
    return new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });
  }
  return jsonError(401, "sign in first", { "www-authenticate": 'Bearer realm="qite dashboard"' });
}

/** The sign-in form, and signing in. */
async function login(board: Board, request: Request, base: string, url: URL): Promise<Response> {
  const next = safeNext(url.searchParams.get("next"));
  if (board.token === undefined) return redirect(next);
  if (request.method === "GET") {
    if (await sessionOf(board, request) !== undefined) return redirect(next);
    return html(200, (nonce) => renderLogin({ nonce, csrf: board.csrf, title: board.title }));
  }
  const form = await readForm(board, request);
  if (form instanceof Response) return form;
  if (!sameToken(form.get("csrf") ?? "", board.csrf)) {
    return html(403, (nonce) =>
      renderLogin({
        nonce,
        csrf: board.csrf,
        title: board.title,
        error: "The form expired: please sign in again.",
      }));
  }
  const now = Date.now();
  while (board.failures.length > 0 && board.failures[0]! <= now - 60_000) board.failures.shift();
  if (board.failures.length >= MAX_FAILURES) {
    const wait = Math.ceil((board.failures[0]! + 60_000 - now) / 1000);
    return html(429, (nonce) =>
      renderLogin({
        nonce,
        csrf: board.csrf,
        title: board.title,
        error: `Too many failed sign-ins: try again in ${wait} s.`,
      }), { "retry-after": String(wait) });
  }
  if (!await sameSecret(form.get("token") ?? "", board.token)) {
    board.failures.push(now);
    return html(
      401,
      (nonce) =>
        renderLogin({ nonce, csrf: board.csrf, title: board.title, error: "Wrong token." }),
    );
  }
  for (const [id, session] of board.sessions) {
    if (session.expires <= now || board.sessions.size >= MAX_SESSIONS) board.sessions.delete(id);
    else break;
  }
  const id = randomToken();
  board.sessions.set(id, { id, expires: now + board.sessionTtl, csrf: randomToken() });
  return redirect(next, {
    "set-cookie": sessionCookie(request, base, id, Math.floor(board.sessionTtl / 1000)),
  });
}

function logout(board: Board, session: Session, base: string): Response {
  if (session.id !== undefined) board.sessions.delete(session.id);
  return new Response(null, {
    status: 303,
    headers: {
      location: board.token === undefined ? "./" : "login",
      "set-cookie": `${COOKIE}=; Path=${base}/; HttpOnly; SameSite=Strict; Max-Age=0`,
      "cache-control": "no-store",
    },
  });
}

function sessionCookie(request: Request, base: string, id: string, maxAge: number): string {
  const https = new URL(request.url).protocol === "https:" ||
    /(^|,)\s*https\s*($|,)/i.test(request.headers.get("x-forwarded-proto") ?? "");
  return `${COOKIE}=${id}; Path=${base}/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${
    https ? "; Secure" : ""
  }`;
}

/** Where to go after signing in: a page of this dashboard, never another site. */
function safeNext(next: string | null): string {
  if (next === null || next === "") return "./";
  // Printable ASCII only (the page's own links are percent-encoded): no `#`, no `\`, and no
  // control or other character that a Location header cannot carry.
  return /^queue(\?[!-"$-[\]-~]*)?$/.test(next) ? next : "./";
}

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, {
    status: 303,
    headers: { location, "cache-control": "no-store", ...headers },
  });
}

function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function page(board: Board, session: Session): Response {
  return html(200, (nonce) =>
    renderShell({
      nonce,
      csrf: session.csrf,
      title: board.title,
      interval: board.interval,
      signedIn: session.id !== undefined,
    }));
}

/** Every queue's counts and sparkline. */
async function overview(board: Board): Promise<Response> {
  const names = await board.source.list();
  const spark = Math.min(SPARK_SECONDS, board.throughput?.seconds ?? SPARK_SECONDS);
  const queues = await Promise.all(names.map(async (name) => {
    const stats = statsView(await board.source.queue(name).stats());
    const series = board.throughput?.series(name);
    return {
      name,
      label: visibleText(name),
      opens: opens(name),
      ...stats,
      sends: series?.send.slice(-spark) ?? null,
      deletes: series?.delete.slice(-spark) ?? null,
    };
  }));
  return json({
    title: board.title,
    readOnly: board.readOnly,
    now: new Date().toISOString(),
    throughput: board.throughput !== undefined,
    queues,
  });
}

/** One queue's counts and messages. */
async function queuePage(board: Board, params: URLSearchParams): Promise<Response> {
  const queue = queueOf(board, params.get("name"));
  if (queue instanceof Response) return queue;
  const limit = board.pageSize;
  const cursor = params.get("cursor") || undefined;
  const bodyBytes = VIEW_BODY_BYTES;
  const [stats, visible, delayed, inFlight, dead] = await Promise.all([
    queue.stats(),
    queue.peek({ limit, state: "visible", bodyBytes }),
    queue.peek({ limit, state: "delayed", bodyBytes }),
    queue.peek({ limit, state: "inFlight", bodyBytes }),
    queue.listDead({ limit, cursor, bodyBytes }).catch((error: unknown) => {
      // The queue checks the cursor's shape (each engine has its own): the client's mistake.
      if (cursor !== undefined && error instanceof TypeError) {
        throw new Refusal(400, "cursor must be a cursor from a previous page");
      }
      throw error;
    }),
  ]);
  return json({
    name: queue.name,
    label: visibleText(queue.name),
    readOnly: board.readOnly,
    now: new Date().toISOString(),
    timeout: queue.timeout,
    maxReceive: queue.maxReceive,
    pageSize: limit,
    stats: statsView(stats),
    visible: visible.map(messageView),
    delayed: delayed.map(messageView),
    inFlight: inFlight.map(messageView),
    dead: dead.messages.map(messageView),
    cursor: dead.cursor ?? null,
  });
}

function queueOf(board: Board, name: string | null): QueueLike | Response {
  if (name === null || name === "") return jsonError(400, "name must be a queue name");
  if (!opens(name)) {
    return jsonError(
      400,
      `the queue name is too long to open here: at most ${MAX_ENCODED_NAME} characters once ` +
        "percent-encoded",
    );
  }
  try {
    return board.source.queue(name);
  } catch (error) {
    // The source refuses names it cannot serve (the QueueSource contract).
    if (error instanceof TypeError || error instanceof RangeError) {
      return jsonError(400, `the queue name is refused: ${error.message}`);
    }
    throw error;
  }
}

/** Runs an action: send, delete, redrive or purge-dead. */
async function act(board: Board, route: string, form: URLSearchParams): Promise<Response> {
  const queue = queueOf(board, form.get("queue"));
  if (queue instanceof Response) return queue;
  const record = (operation: "send" | "delete", count: number): void => {
    if (count > 0) board.throughput?.record({ queue: queue.name, operation, count });
  };
  switch (route) {
    case "send": {
      if (board.source.accepts?.(queue.name) === false) {
        return jsonError(
          400,
          `this server cannot send to a queue named ${JSON.stringify(queue.name)}`,
        );
      }
      const body = new TextEncoder().encode(form.get("body") ?? "");
      if (body.length > board.maxBodySize) {
        return jsonError(413, `the body must be at most ${board.maxBodySize} bytes`);
      }
      const delay = integerField(form, "delay", /^[0-9]{1,19}$/);
      const priority = integerField(form, "priority", /^-?[0-9]{1,19}$/);
      if (delay instanceof Response) return delay;
      if (priority instanceof Response) return priority;
      if (delay > BigInt(MAX_DURATION_MS)) {
        return jsonError(400, `delay must be at most ${MAX_DURATION_MS} ms (about 292 years)`);
      }
      if (priority < -(2n ** 63n) || priority >= 2n ** 63n) {
        return jsonError(400, "priority must be a 64-bit integer");
      }
      let id;
      try {
        id = await queue.send({
          body,
          delay: Number(delay),
          priority: Number.isSafeInteger(Number(priority)) ? Number(priority) : priority,
        });
      } catch (error) {
        // A value this queue's engine cannot hold (PostgreSQL's priority is 32 bits).
        if (error instanceof RangeError) return jsonError(400, error.message);
        throw error;
      }
      record("send", 1);
      return json({ id: id ?? null });
    }
    case "delete": {
      const id = form.get("id");
      if (id === null || id === "") return jsonError(400, "id is missing");
      const deleted = await queue.delete(id);
      record("delete", deleted ? 1 : 0);
      return json({ deleted });
    }
    case "redrive": {
      const ids = form.getAll("id").filter((id) => id !== "");
      return json({ count: await queue.redrive(ids.length === 0 ? undefined : ids) });
    }
    default: // purge-dead
      return json({ count: await queue.purgeDead() });
  }
}

/** An optional integer form field (empty means 0), as a bigint. */
function integerField(form: URLSearchParams, name: string, pattern: RegExp): bigint | Response {
  const value = (form.get(name) ?? "").trim();
  if (value === "") return 0n;
  if (!pattern.test(value)) return jsonError(400, `${name} must be a whole number`);
  return BigInt(value);
}

/** Reads a form-encoded body within the size limit. */
async function readForm(board: Board, request: Request): Promise<URLSearchParams | Response> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    await request.body?.cancel().catch(() => {});
    return jsonError(415, "the body must be application/x-www-form-urlencoded");
  }
  // Percent-encoding at most triples a body; 4 KiB for the other fields.
  const bytes = await readBody(request, board.maxBodySize * 3 + 4096);
  if (bytes === undefined) return jsonError(413, "the request is too large");
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/**
 * Turns a thrown error into an answer: 4xx only for the dashboard's own checks of a request;
 * anything else (a bug, a broken hook or source) is a 500 without detail, and 503 when the
 * database is busy or unreachable.
 */
function failure(board: Board, request: Request, error: unknown): Response {
  if (error instanceof Refusal) return jsonError(error.status, error.message);
  const busy = error instanceof QueueError &&
    (error.code === "BUSY" || error.code === "LOCKED" || error.code === "CLOSED" ||
      error.code === "NETWORK");
  log(board.logger, "Cannot answer a dashboard request", {
    method: request.method,
    url: request.url,
    error: describeError(error),
    ...(error instanceof QueueError ? { code: error.code } : {}),
  });
  return busy
    ? jsonError(503, "the queue is unavailable; try again", { "retry-after": "1" })
    : jsonError(500, "internal server error");
}

/** An HTML page with a fresh nonce for its inline style and script, and a strict policy. */
function html(
  status: number,
  render: (nonce: string) => string,
  headers: Record<string, string> = {},
): Response {
  const nonce = randomToken();
  return new Response(render(nonce), {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; ` +
        `style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; form-action 'self'; ` +
        "frame-ancestors 'none'; base-uri 'none'",
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "referrer-policy": "same-origin",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), { headers: JSON_HEADERS });
}

function jsonError(status: number, error: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { ...JSON_HEADERS, ...headers },
  });
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}
