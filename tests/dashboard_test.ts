import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Database,
  type ListDeadOptions,
  listQueues,
  type PeekOptions,
  Queue,
  type QueueLike,
} from "../mod.ts";
import { encodeJob } from "../jobs/mod.ts";
import {
  createDashboard,
  createRouter,
  type DashboardOptions,
  type Handler,
  serve,
  Throughput,
} from "../http/mod.ts";
import { eachDriver } from "./_helpers.ts";
import { visibleText } from "../http/_dashboard_view.ts";
import { safeText, showBytes } from "../cli/body.ts";
import { testClients, TestDatabase } from "./_postgres.ts";
import { listQueues as listPostgresQueues, PostgresQueue } from "../postgres/mod.ts";

const ORIGIN = "http://dash.test";

function dashboardOf(db: Database, options: DashboardOptions = {}): Handler {
  return createDashboard(
    { list: () => listQueues(db), queue: (name) => new Queue({ db, name, maxReceive: 2 }) },
    options,
  );
}

async function get(board: Handler, path: string, headers: HeadersInit = {}): Promise<Response> {
  return await board(new Request(`${ORIGIN}${path}`, { headers }));
}

async function getJson(board: Handler, path: string): Promise<Record<string, unknown>> {
  const response = await get(board, path);
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json();
}

/** The CSRF token a page carries. */
async function csrfOf(board: Handler, path = "/", headers: HeadersInit = {}): Promise<string> {
  const html = await (await get(board, path, headers)).text();
  const match = /data-csrf="([^"]+)"/.exec(html);
  assert.ok(match, "the page carries a CSRF token");
  return match[1]!;
}

/** A same-origin POST as the dashboard's script sends it. */
async function post(
  board: Handler,
  path: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(key, item);
  }
  return await board(
    new Request(`${ORIGIN}${path}`, {
      method: "POST",
      body,
      headers: { origin: ORIGIN, "sec-fetch-site": "same-origin", ...headers },
    }),
  );
}

eachDriver("createDashboard serves its page under any mount point, with a strict policy", async ({
  db,
}) => {
  const board = dashboardOf(db);
  const page = await get(board, "/ops/queues/");
  assert.equal(page.status, 200);
  const html = await page.text();
  const policy = page.headers.get("content-security-policy")!;
  const nonce = /script-src 'nonce-([^']+)'/.exec(policy)![1]!;
  assert.match(html, new RegExp(`<script nonce="${nonce}">`));
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.equal(page.headers.get("cache-control"), "no-store");
  // Every link and request of the page is relative, so it works below any prefix.
  assert.doesNotMatch(html, /(href|action|src)="\//);
  assert.equal((await get(board, "/ops/queues/overview.json")).status, 200);
  assert.equal((await get(board, "/ops/queues/queue?name=a")).status, 200);
  assert.equal((await get(board, "/ops/queues/nothing")).status, 404);
  assert.equal((await board(new Request(`${ORIGIN}/ops/queues/`, { method: "PUT" }))).status, 405);

  const mounted = dashboardOf(db, { basePath: "/admin" });
  assert.equal((await get(mounted, "/admin/")).status, 200);
  assert.equal((await get(mounted, "/admin/overview.json")).status, 200);
  assert.equal((await get(mounted, "/other/")).status, 404);
  assert.equal((await get(mounted, "/admin/deeper/")).status, 404);
  assert.throws(() => dashboardOf(db, { basePath: "/admin/" }), TypeError);
});

eachDriver(
  "The dashboard's page is under 50 KB, inline, and holds no queue data",
  async ({ db }) => {
    await new Queue({ db, name: "secret-queue" }).send({ body: "secret body" });
    const html = await (await get(dashboardOf(db, { title: '<script>"x"</script>' }), "/")).text();
    const size = new TextEncoder().encode(html).length;
    assert.ok(size < 50_000, `the page is ${size} bytes`);
    assert.doesNotMatch(html, /secret/);
    assert.doesNotMatch(html, /<script>"x"/);
    assert.match(html, /&#60;script&#62;&#34;x&#34;/);
    assert.doesNotMatch(html, /<(link|script)[^>]+(href|src)="https?:/);
  },
);

eachDriver("overview.json gives every queue's stats as stats() does, and its sparkline", async ({
  db,
}) => {
  const throughput = new Throughput();
  const board = dashboardOf(db, { throughput });
  const a = new Queue({ db, name: "a" });
  const b = new Queue({ db, name: "b", maxReceive: 2 });
  await a.sendBatch([{ body: "1" }, { body: "2" }, { body: "3", delay: 60_000 }]);
  await a.receive();
  await b.send({ body: "x" });
  const overview = await getJson(board, "/overview.json");
  assert.equal(overview.throughput, true);
  assert.equal(overview.readOnly, false);
  const queues = overview.queues as Record<string, unknown>[];
  assert.deepEqual(queues.map((q) => q.name), ["a", "b"]);
  for (const [i, queue] of [a, b].entries()) {
    const stats = await queue.stats();
    const { sends, deletes, name: _n, label: _l, opens, ...counts } = queues[i]!;
    assert.equal(opens, true);
    assert.equal((counts.oldestVisibleAge as number) >= 0, true);
    assert.deepEqual({ ...counts, oldestVisibleAge: undefined }, {
      ...stats,
      oldestVisibleAge: undefined,
    });
    assert.equal((sends as number[]).length, 60);
    assert.equal((deletes as number[]).length, 60);
  }
  const without = await getJson(dashboardOf(db), "/overview.json");
  assert.equal(without.throughput, false);
  assert.equal((without.queues as Record<string, unknown>[])[0]!.sends, null);
});

test(
  "Every character that hides or reorders text is shown as <U+XXXX>, in the dashboard and on " +
    "the command line: so no two names or bodies that differ look the same",
  () => {
    const hidden = [
      "\u00ad", // soft hyphen
      "\u034f", // combining grapheme joiner
      "\u061c", // Arabic letter mark (direction)
      "\u115f", // Hangul choseong filler
      "\u180e", // Mongolian vowel separator
      "\u200b", // zero-width space
      "\u202e", // right-to-left override
      "\u2066", // left-to-right isolate
      "\u3164", // Hangul filler
      "\ufe0f", // variation selector 16
      "\ufeff", // byte-order mark
      "\u{e0041}", // tag latin capital letter A
      "\u{e0100}", // variation selector 17
    ];
    for (const char of hidden) {
      const name = `pay${char}ments`;
      const code = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      assert.equal(visibleText(name), `pay<U+${code}>ments`, code);
      assert.equal(safeText(name), `pay<U+${code}>ments`, code);
      assert.equal(showBytes(new TextEncoder().encode(name)).format, "hex", code);
    }
    for (const plain of ["payments", "résumé", "日本語", "😀", "a b"]) {
      assert.equal(visibleText(plain), plain);
      assert.equal(safeText(plain), plain);
      assert.equal(showBytes(new TextEncoder().encode(plain)).format, "text");
    }
  },
);

eachDriver(
  "HEAD on a dashboard page answers its GET's status and headers, no body",
  async ({ db }) => {
    const board = dashboardOf(db);
    for (const path of ["/", "/overview.json", "/queue?name=q"]) {
      const got = await get(board, path);
      const head = await board(new Request(`${ORIGIN}${path}`, { method: "HEAD" }));
      assert.equal(head.status, got.status, path);
      assert.equal(head.headers.get("content-type"), got.headers.get("content-type"), path);
      assert.equal(await head.text(), "", path);
    }
    const refused = await board(new Request(`${ORIGIN}/send`, { method: "HEAD" }));
    assert.equal(refused.status, 405);
    assert.equal(refused.headers.get("allow"), "POST");
    const put = await board(new Request(`${ORIGIN}/`, { method: "PUT" }));
    assert.equal(put.headers.get("allow"), "GET, HEAD");
  },
);

eachDriver(
  "Every queue the overview lists can be opened, unless its name is too long for an address: " +
    "then the overview says so and links nowhere",
  async ({ db }) => {
    const board = dashboardOf(db);
    const long = "x".repeat(2000);
    const tooLong = "é".repeat(1400); // 8 400 characters once percent-encoded
    for (const name of [long, tooLong]) await new Queue({ db, name }).send({ body: "b" });
    const { queues } = await getJson(board, "/overview.json") as {
      queues: { name: string; opens: boolean }[];
    };
    const opens = new Map(queues.map((q) => [q.name, q.opens]));
    assert.equal(opens.get(long), true);
    assert.equal(opens.get(tooLong), false);
    const page = await getJson(board, `/queue.json?name=${encodeURIComponent(long)}`);
    assert.equal(page.name, long);
    const refused = await get(board, `/queue.json?name=${encodeURIComponent(tooLong)}`);
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error, /too long/);
  },
);

eachDriver(
  "queue.json previews text and binary bodies, names jobs and shows hidden characters",
  async ({
    db,
  }) => {
    const board = dashboardOf(db, { pageSize: 10 });
    const name = '<img src=x onerror="alert(1)">\u0007\'"\u202e';
    const queue = new Queue({ db, name, maxReceive: 2 });
    const text = await queue.send({ body: "line 1\nline\t2 <b>\u0000\u200b", priority: 2n ** 62n });
    const binary = await queue.send({ body: new Uint8Array([0xff, 0xfe, 0, 1]), priority: -3 });
    const job = await queue.send({ body: encodeJob("send-email\u0008", '{"to":"a@b.c"}') });
    const long = await queue.send({ body: "é".repeat(500) });
    await queue.send({ body: "later", delay: 60_000 });
    const page = await getJson(board, `/queue.json?name=${encodeURIComponent(name)}`);
    assert.equal(page.name, name);
    assert.equal(page.label, '<img src=x onerror="alert(1)"><U+0007>\'"<U+202E>');
    const visible = page.visible as Record<string, unknown>[];
    const byId = new Map(visible.map((m) => [m.id, m]));
    assert.deepEqual(byId.get(text), {
      id: text,
      priority: String(2n ** 62n),
      received: 0,
      created: byId.get(text)!.created,
      timeout: byId.get(text)!.timeout,
      size: 21,
      preview: "line 1\u21b5line\u21e52 <b><U+0000><U+200B>",
      binary: false,
      truncated: false,
    });
    assert.equal(byId.get(binary)!.preview, "ff fe 00 01");
    assert.equal(byId.get(binary)!.binary, true);
    assert.equal(byId.get(binary)!.priority, "-3");
    assert.equal(byId.get(job)!.job, "send-email<U+0008>");
    assert.equal(byId.get(job)!.preview, '{"to":"a@b.c"}');
    assert.equal(byId.get(long)!.preview, "é".repeat(120));
    assert.equal(byId.get(long)!.truncated, true);
    assert.equal(byId.get(long)!.size, 1000);
    assert.equal((page.delayed as unknown[]).length, 1);
    const { oldestVisibleAge: _shown, ...counts } = page.stats as Record<string, unknown>;
    const { oldestVisibleAge: _actual, ...expected } = await queue.stats();
    assert.deepEqual(counts, expected);

    const bad = await get(board, "/queue.json?name=");
    assert.equal(bad.status, 400);
    const badCursor = await get(board, "/queue.json?name=a&cursor=nonsense");
    assert.equal(badCursor.status, 400);
  },
);

eachDriver("queue.json pages through dead messages with the cursor", async ({ db }) => {
  const board = dashboardOf(db, { pageSize: 2 });
  const queue = new Queue({ db, name: "q", maxReceive: 1 });
  await queue.sendBatch([1, 2, 3].map((i) => ({ body: `m${i}` })));
  for (const message of await queue.receiveBatch(3)) await queue.bury(message);
  const first = await getJson(board, "/queue.json?name=q");
  assert.equal((first.dead as unknown[]).length, 2);
  assert.equal(typeof first.cursor, "string");
  const second = await getJson(
    board,
    `/queue.json?name=q&cursor=${encodeURIComponent(first.cursor as string)}`,
  );
  assert.equal((second.dead as unknown[]).length, 1);
  assert.equal(second.cursor, null);
});

eachDriver("Actions need a same-origin POST that carries the page's CSRF token", async ({ db }) => {
  const board = dashboardOf(db);
  const queue = new Queue({ db, name: "q" });
  const csrf = await csrfOf(board);
  const send = { queue: "q", body: "hi", csrf };
  const refusals: Array<[string, Response]> = [
    ["no token", await post(board, "/send", { queue: "q", body: "hi" })],
    ["a wrong token", await post(board, "/send", { ...send, csrf: "x".repeat(43) })],
    ["another site", await post(board, "/send", send, { "sec-fetch-site": "cross-site" })],
    ["a sibling site", await post(board, "/send", send, { "sec-fetch-site": "same-site" })],
    ["another origin", await post(board, "/send", send, { origin: "http://evil.test" })],
    ["an opaque origin", await post(board, "/send", send, { origin: "null" })],
  ];
  for (const [why, response] of refusals) {
    assert.equal(response.status, 403, why);
    assert.match((await response.json()).error, /CSRF|cross/, why);
  }
  const json = await board(
    new Request(`${ORIGIN}/send`, {
      method: "POST",
      body: JSON.stringify(send),
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(json.status, 415);
  assert.equal((await get(board, "/send")).status, 405);
  assert.equal((await queue.stats()).total, 0);

  // The token may come as a header instead; a client without Origin or Sec-Fetch-Site is fine.
  const ok = await board(
    new Request(`${ORIGIN}/send`, {
      method: "POST",
      body: new URLSearchParams({ queue: "q", body: "hi", delay: "60000", priority: "7" }),
      headers: { "x-qite-csrf": csrf },
    }),
  );
  assert.equal(ok.status, 200);
  const { id } = await ok.json();
  const [delayed] = await queue.peek({ state: "delayed" });
  assert.equal(delayed!.id, id);
  assert.equal(delayed!.priority, 7);
  assert.equal(new TextDecoder().decode(delayed!.body), "hi");
});

eachDriver("The send action checks its fields and sizes", async ({ db }) => {
  const board = dashboardOf(db, { maxBodySize: 4 });
  const csrf = await csrfOf(board);
  const status = async (fields: Record<string, string>): Promise<number> =>
    (await post(board, "/send", { queue: "q", csrf, ...fields })).status;
  assert.equal(await status({ body: "12345" }), 413);
  assert.equal(await status({ body: "x", delay: "-1" }), 400);
  assert.equal(await status({ body: "x", delay: "1.5" }), 400);
  const tooLate = await post(board, "/send", {
    queue: "q",
    csrf,
    body: "x",
    delay: "1".repeat(17),
  });
  assert.equal(tooLate.status, 400);
  assert.match((await tooLate.json()).error, /delay must be at most \d+ ms/);
  assert.equal(await status({ body: "x", priority: "high" }), 400);
  assert.equal(await status({ body: "x", priority: String(2n ** 63n) }), 400);
  assert.equal(await status({ body: "x", queue: "" }), 400);
  assert.equal(await status({ body: "x", priority: String(-(2n ** 63n)) }), 200);
  const [message] = await new Queue({ db, name: "q" }).peek();
  assert.equal(message!.priority, -(2n ** 63n));
});

eachDriver("The actions delete, redrive one or all, and purge dead messages", async ({ db }) => {
  const throughput = new Throughput();
  const board = dashboardOf(db, { throughput });
  const csrf = await csrfOf(board);
  const queue = new Queue({ db, name: "q", maxReceive: 1 });
  const ids = await queue.sendBatch([1, 2, 3, 4, 5].map((i) => ({ body: `m${i}` })));
  for (const message of await queue.receiveBatch(4)) await queue.bury(message);
  const act = async (route: string, fields: Record<string, string | string[]>) => {
    const response = await post(board, `/${route}`, { queue: "q", csrf, ...fields });
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json();
  };
  assert.deepEqual(await act("delete", { id: ids[4]! }), { deleted: true });
  assert.deepEqual(await act("delete", { id: ids[4]! }), { deleted: false });
  assert.deepEqual(await act("redrive", { id: ids[0]! }), { count: 1 });
  assert.deepEqual(await act("redrive", { id: [ids[1]!, ids[0]!] }), { count: 1 });
  assert.equal((await queue.stats()).dead, 2);
  assert.deepEqual(await act("redrive", {}), { count: 2 });
  for (const message of await queue.receiveBatch(2)) await queue.bury(message);
  assert.deepEqual(await act("purge-dead", {}), { count: 2 });
  // One stats() call: its age is read from the clock, so a second call may differ by a tick.
  const { oldestVisibleAge, ...counts } = await queue.stats();
  assert.equal(typeof oldestVisibleAge, "number");
  assert.deepEqual(counts, { total: 2, visible: 2, inFlight: 0, delayed: 0, dead: 0 });
  assert.equal(throughput.series("q").totals.delete, 1);
  assert.equal((await post(board, "/delete", { queue: "q", csrf })).status, 400);
});

eachDriver("A read-only dashboard shows everything and refuses every action", async ({ db }) => {
  const board = dashboardOf(db, { readOnly: true });
  const queue = new Queue({ db, name: "q", maxReceive: 1 });
  await queue.send({ body: "x" });
  await queue.bury((await queue.receive())!);
  const csrf = await csrfOf(board);
  assert.equal((await getJson(board, "/overview.json")).readOnly, true);
  assert.equal((await getJson(board, "/queue.json?name=q")).readOnly, true);
  for (const route of ["send", "delete", "redrive", "purge-dead"]) {
    const response = await post(board, `/${route}`, { queue: "q", csrf, body: "y", id: "m_x" });
    assert.equal(response.status, 403, route);
    assert.match((await response.json()).error, /read-only/);
  }
  assert.equal((await queue.stats()).dead, 1);
  assert.equal((await queue.stats()).total, 1);
});

eachDriver(
  "authorize guards every page and action, with the handler's semantics",
  async ({ db }) => {
    const logged: string[] = [];
    const board = dashboardOf(db, {
      authorize: (request) => {
        const who = request.headers.get("x-who");
        if (who === "boom") throw new Error("directory is down");
        if (who === "teapot") return new Response("no", { status: 418 });
        return who === "admin" || (who === "viewer" && request.method === "GET");
      },
      logger: { info: (message) => logged.push(message) },
    });
    assert.equal((await get(board, "/")).status, 403);
    assert.equal((await get(board, "/overview.json")).status, 403);
    assert.equal((await get(board, "/", { "x-who": "teapot" })).status, 418);
    assert.equal((await get(board, "/", { "x-who": "boom" })).status, 500);
    assert.deepEqual(logged, ["The dashboard's authorize hook threw"]);
    assert.equal((await get(board, "/overview.json", { "x-who": "viewer" })).status, 200);
    const csrf = await csrfOf(board, "/", { "x-who": "viewer" });
    const send = { queue: "q", body: "x", csrf };
    assert.equal((await post(board, "/send", send, { "x-who": "viewer" })).status, 403);
    assert.equal((await post(board, "/send", send, { "x-who": "admin" })).status, 200);
    assert.equal((await new Queue({ db, name: "q" }).stats()).total, 1);
  },
);

eachDriver(
  "With a token, a browser signs in once and holds an HttpOnly, SameSite=Strict cookie",
  async ({
    db,
  }) => {
    const board = dashboardOf(db, { token: "s3cret-token", sessionTtl: 60_000 });
    const first = await get(board, "/admin/queue?name=a%26b");
    assert.equal(first.status, 303);
    assert.equal(first.headers.get("location"), "login?next=queue%3Fname%3Da%2526b");
    const json = await get(board, "/admin/overview.json");
    assert.equal(json.status, 401);
    const form = await get(board, "/admin/login");
    assert.equal(form.status, 200);
    const html = await form.text();
    assert.match(html, /<input id="token" name="token" type="password"/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;

    const wrong = await post(board, "/admin/login", { token: "guess", csrf });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /Wrong token/);
    const noCsrf = await post(board, "/admin/login", { token: "s3cret-token" });
    assert.equal(noCsrf.status, 403);
    const crossSite = await post(board, "/admin/login", { token: "s3cret-token", csrf }, {
      "sec-fetch-site": "cross-site",
    });
    assert.equal(crossSite.status, 403);

    const right = await post(board, "/admin/login?next=queue%3Fname%3Da", {
      token: "s3cret-token",
      csrf,
    });
    assert.equal(right.status, 303);
    assert.equal(right.headers.get("location"), "queue?name=a");
    const cookie = right.headers.get("set-cookie")!;
    assert.match(
      cookie,
      /^qite_session=[\w-]{43}; Path=\/admin\/; HttpOnly; SameSite=Strict; Max-Age=60$/,
    );
    const session = cookie.split(";")[0]!;
    assert.equal((await get(board, "/admin/overview.json", { cookie: session })).status, 200);
    // Behind a proxy that asks for Basic credentials, the browser sends them too: not ours.
    const basic = { cookie: session, authorization: "Basic dXNlcjpwYXNz" };
    assert.equal((await get(board, "/admin/overview.json", basic)).status, 200);
    assert.equal((await get(board, "/admin/", basic)).status, 200);
    const sessionCsrf = await csrfOf(board, "/admin/", { cookie: session });
    assert.notEqual(sessionCsrf, csrf);
    assert.match(await (await get(board, "/admin/", { cookie: session })).text(), /Sign out/);
    const sent = await post(board, "/admin/send", { queue: "a", body: "x", csrf: sessionCsrf }, {
      cookie: session,
    });
    assert.equal(sent.status, 200);
    // The sign-in form's token is not the session's.
    const stale = await post(board, "/admin/send", { queue: "a", body: "x", csrf }, {
      cookie: session,
    });
    assert.equal(stale.status, 403);

    // A script may use the token as a bearer token instead, without the CSRF token.
    const bearer = { authorization: "Bearer s3cret-token" };
    assert.equal((await get(board, "/admin/overview.json", bearer)).status, 200);
    assert.equal((await post(board, "/admin/send", { queue: "a", body: "y" }, bearer)).status, 200);
    assert.equal(
      (await get(board, "/admin/overview.json", { authorization: "Bearer nope" })).status,
      401,
    );

    const out = await post(board, "/admin/logout", { csrf: sessionCsrf }, { cookie: session });
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie")!, /^qite_session=; Path=\/admin\/;.*Max-Age=0/);
    assert.equal((await get(board, "/admin/overview.json", { cookie: session })).status, 401);
    assert.equal((await new Queue({ db, name: "a" }).stats()).total, 2);
  },
);

eachDriver(
  "Signing in never redirects off the dashboard, marks cookies Secure over HTTPS, and slows guessing",
  async ({
    db,
  }) => {
    const board = dashboardOf(db, { token: "t" });
    const html = await (await get(board, "/login")).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    for (
      const next of [
        "//evil.test/",
        "https://evil.test",
        "/\\evil.test",
        "login",
        "queue#x",
        "queue?name=x\r\nX-Injected: 1",
        "queue?name=\u2603",
      ]
    ) {
      const response = await post(board, `/login?next=${encodeURIComponent(next)}`, {
        token: "t",
        csrf,
      });
      assert.equal(response.headers.get("location"), "./", next);
    }
    const proxied = await post(board, "/login", { token: "t", csrf }, {
      "x-forwarded-proto": "https",
    });
    assert.match(proxied.headers.get("set-cookie")!, /; Max-Age=43200; Secure$/); // 12 h
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await post(board, "/login", { token: `guess ${i}`, csrf })).status);
    }
    assert.deepEqual(statuses, [...new Array(10).fill(401), 429]);
    assert.equal((await post(board, "/login", { token: "t", csrf })).status, 429);
  },
);

eachDriver("createDashboard refuses a bad source or options", ({ db }) => {
  assert.throws(() => createDashboard({} as never), TypeError);
  assert.throws(() => dashboardOf(db, { readOnly: "yes" as never }), TypeError);
  assert.throws(() => dashboardOf(db, { token: "" }), TypeError);
  assert.throws(() => dashboardOf(db, { refreshInterval: 5000 }), RangeError);
  assert.throws(() => dashboardOf(db, { pageSize: 0 }), RangeError);
  assert.throws(() => dashboardOf(db, { authorize: true as never }), TypeError);
});

eachDriver(
  "The router serves the dashboard at / beside its queues, and never opens what authorize closes",
  async ({
    db,
  }) => {
    using router = createRouter({ db, dashboard: { readOnly: true } });
    const page = await router.fetch(new Request("http://x/"));
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    const body = JSON.stringify({ Message: { Body: btoa("x") } });
    await router.fetch(new Request("http://x/queues/a", { method: "POST", body }));
    const overview = await (await router.fetch(new Request("http://x/overview.json"))).json();
    assert.equal(overview.queues[0].visible, 1);
    assert.equal(overview.throughput, true);
    assert.equal((await router.fetch(new Request("http://x/health"))).status, 200);
    assert.equal((await router.fetch(new Request("http://x/deeper/overview.json"))).status, 404);

    using mounted = createRouter({ db, basePath: "/ops/qite", dashboard: true });
    assert.equal((await mounted.fetch(new Request("http://x/ops/qite/"))).status, 200);
    const bare = await mounted.fetch(new Request("http://x/ops/qite"));
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get("location"), "/ops/qite/");
    const mountedOverview = await mounted.fetch(new Request("http://x/ops/qite/overview.json"));
    assert.equal((await mountedOverview.json()).queues[0].name, "a");
    assert.equal((await mounted.fetch(new Request("http://x/overview.json"))).status, 404);

    using plain = createRouter({ db });
    assert.equal((await plain.fetch(new Request("http://x/"))).status, 404);
    const authorize = (request: Request): boolean => request.headers.has("authorization");
    assert.throws(
      () => createRouter({ db, authorize, dashboard: true }),
      /dashboard would be open/,
    );
    using guarded = createRouter({ db, authorize, dashboard: { token: "t" } });
    assert.equal((await guarded.fetch(new Request("http://x/"))).status, 303);
    assert.equal((await guarded.fetch(new Request("http://x/queues/a/stats"))).status, 403);
  },
);

test("serve() with a dashboard answers its page and JSON over TCP", async () => {
  await using server = await serve({ db: ":memory:", port: 0, dashboard: true });
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>qite<\/title>/);
  await fetch(`${server.url}/queues/emails`, {
    method: "POST",
    body: JSON.stringify({ Message: { Body: btoa("hi") } }),
  });
  const overview = await (await fetch(`${server.url}/overview.json`)).json();
  assert.deepEqual(overview.queues.map((q: { name: string }) => q.name), ["emails"]);
});

test("On PostgreSQL, the send form refuses a priority beyond 32 bits with 400 and sends nothing", async () => {
  const database = new TestDatabase(testClients()[0]!);
  try {
    await database.setup();
    const { sql } = database.client();
    const board = createDashboard({
      list: () => listPostgresQueues(sql, { schema: database.schema }),
      queue: (name) => new PostgresQueue({ sql, schema: database.schema, name }),
    });
    const csrf = await csrfOf(board);
    const refused = await post(board, "/send", {
      queue: "q",
      csrf,
      body: "x",
      priority: "2147483648",
    });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error, /priority/);
    const sent = await post(board, "/send", {
      queue: "q",
      csrf,
      body: "x",
      priority: "2147483647",
    });
    assert.equal(sent.status, 200, await sent.clone().text());
    assert.equal(await database.count(), 1);
  } finally {
    await database.close();
  }
});

eachDriver(
  "Through the router, the send form makes no queue its routes cannot reach, and GET /queues lists only those they can",
  async ({ db }) => {
    await new Queue({ db, name: "made by a library" }).send({ body: "x" });
    using router = createRouter({ db, dashboard: true });
    const board: Handler = (request) => router.fetch(request);
    const csrf = await csrfOf(board);
    const refused = await post(board, "/send", { queue: "a b/../c", csrf, body: "x" });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error, /cannot send to a queue named/);
    assert.equal((await post(board, "/send", { queue: "ok.1", csrf, body: "x" })).status, 200);
    const listed = await (await router.fetch(new Request(`${ORIGIN}/queues`))).json();
    assert.deepEqual(listed, { Queues: ["ok.1"] });
    // The dashboard still shows every queue.
    const overview = await getJson(board, "/overview.json");
    const names = (overview.queues as Array<{ name: string }>).map((q) => q.name);
    assert.deepEqual(names, ["made by a library", "ok.1"]);
    assert.throws(
      () =>
        createDashboard({
          list: () => Promise.resolve([]),
          queue: () => ({} as never),
          accepts: 1 as never,
        }),
      TypeError,
    );
  },
);

eachDriver(
  "A queue page reads only the start of large bodies: their size, a preview and a job's name",
  async ({ db }) => {
    // What the page reads of each body, through a queue that reports it.
    const read: number[] = [];
    const reported = (name: string): QueueLike => {
      const queue = new Queue({ db, name, maxReceive: 2 });
      const note = <T extends { body: Uint8Array }>(messages: T[]): T[] => {
        read.push(...messages.map((m) => m.body.length));
        return messages;
      };
      return {
        name,
        timeout: queue.timeout,
        maxReceive: queue.maxReceive,
        stats: () => queue.stats(),
        peek: async (options?: PeekOptions) => note(await queue.peek(options)),
        listDead: async (options?: ListDeadOptions) => {
          const page = await queue.listDead(options);
          note([...page.messages]);
          return page;
        },
      } as unknown as QueueLike;
    };
    const board = createDashboard({ list: () => listQueues(db), queue: reported }, {
      pageSize: 20,
    });
    const queue = new Queue({ db, name: "big", maxReceive: 2, timeout: 1 });
    const megabyte = 1024 * 1024;
    const ids = await queue.sendBatch([
      ...Array.from({ length: 8 }, (_, i) => ({ body: `${i}:`.padEnd(2 * megabyte, "é") })),
      { body: encodeJob("resize-image", new Uint8Array(3 * megabyte).fill(0xab)) },
      { body: new Uint8Array(megabyte).fill(0xff) },
    ]);
    const response = await get(board, "/queue.json?name=big");
    assert.equal(response.status, 200);
    const json = await response.text();
    // 10 bodies of 1 to 3 MiB; the page is previews, a few hundred bytes each.
    assert.ok(json.length < 20_000, `${json.length} bytes`);
    const visible = JSON.parse(json).visible as Array<Record<string, unknown>>;
    const byId = new Map(visible.map((m) => [m.id, m]));
    const text = byId.get(ids[0])!;
    assert.equal(text.size, new TextEncoder().encode("0:".padEnd(2 * megabyte, "é")).length);
    assert.equal(text.preview, `0:${"é".repeat(118)}`);
    assert.equal(text.truncated, true);
    const job = byId.get(ids[8])!;
    assert.equal(job.job, "resize-image");
    assert.equal(job.binary, true);
    assert.equal(job.preview, Array(32).fill("ab").join(" "));
    assert.equal(job.truncated, true);
    assert.ok((job.size as number) > 3 * megabyte);
    assert.deepEqual(
      [byId.get(ids[9])!.size, byId.get(ids[9])!.binary, byId.get(ids[9])!.truncated],
      [megabyte, true, true],
    );
    // Dead ones too (for the dashboard's queues, after 2 receives).
    for (let round = 0; round < 2; round++) {
      assert.equal((await queue.receiveBatch(10)).length, 10);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const dead = (await getJson(board, "/queue.json?name=big")).dead as Array<
      Record<string, unknown>
    >;
    assert.equal(dead.length, 10);
    assert.equal(dead.find((m) => m.id === ids[8])!.job, "resize-image");
    assert.equal(read.length, 20);
    assert.ok(read.every((bytes) => bytes <= 4096), `bytes read of each body: ${read}`);
  },
);
