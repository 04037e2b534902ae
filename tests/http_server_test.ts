import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { open, Queue } from "../mod.ts";
import { createClient, serve } from "../http/mod.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { sleep, text } from "./_helpers.ts";
import { PG_URL, testClients, TestDatabase } from "./_postgres.ts";
import { httpRequest, rawRequest, type Started, startServer, withServer } from "./_server.ts";

const README = fileURLToPath(new URL("../README.md", import.meta.url));

test("The standalone server serves named queues to the client and to raw fetch", async () => {
  await withServer([], async ({ url, output }) => {
    assert.match(output(), /^qite: serving .*served\.db \((bun|node):sqlite, SQLite [\d.]+\) at/);
    assert.match(output(), /\/queues\/\{name\}, dashboard at http:\/\/127\.0\.0\.1:\d+\/\n/);
    const emails = createClient(`${url}/queues/emails`);
    const id = await emails.send({ body: "hello", priority: 1 });
    const message = await emails.receive();
    assert.equal(message?.id, id);
    assert.equal(text(message!.body), "hello");
    assert.equal(await emails.delete(message!), true);

    const post = await fetch(`${url}/queues/sms`, {
      method: "POST",
      body: JSON.stringify({ Message: { Body: btoa("hi"), Delay: 0 } }),
    });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), "");
    const get = await fetch(`${url}/queues/sms`);
    assert.equal(get.status, 200);
    const body = await get.text();
    assert.match(
      body,
      /^\{"Message":\{"ID":"m_[0-9a-f]{32}","Body":"aGk=","Delay":0,"Priority":0\}\}\n$/,
    );
    assert.deepEqual(await (await fetch(`${url}/queues`)).json(), { Queues: ["sms"] });
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const stats = await (await fetch(`${url}/queues/sms/stats`)).json();
    assert.equal(stats.InFlight, 1);
  });
});

test("The standalone server refuses unknown paths, bad queue names and wrong methods", async () => {
  await withServer([], async ({ url }) => {
    const status = async (path: string, init?: RequestInit): Promise<number> => {
      const response = await fetch(`${url}${path}`, init);
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await status("/"), 200); // the dashboard
    assert.equal(await status("/nothing-here"), 404);
    assert.equal(await status("/deeper/overview.json"), 404);
    assert.equal(await status("/queues/emails/nothing-here"), 404);
    assert.equal(await status("/queues/bad%20name"), 400);
    assert.equal(await status("/queues/%27%3B%20drop%20table%20goqite"), 400);
    assert.equal(await status(`/queues/${"x".repeat(129)}`), 400);
    assert.equal(await status("/queues/emails", { method: "PATCH" }), 405);
    assert.equal(await status("/queues", { method: "POST" }), 405);
  });
});

test("Without its dashboard, the standalone server answers 404 at /", async () => {
  await withServer(["--no-dashboard"], async ({ url, output }) => {
    assert.doesNotMatch(output(), /dashboard/);
    const response = await fetch(`${url}/`);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});

test("The standalone server asks for the bearer token it was given, on the dashboard too", async () => {
  await withServer(["--token", "s3cret", "--read-only"], async ({ url, output }) => {
    assert.match(output(), /, dashboard at http:\/\/[^ ]+\/ \(read-only\)\n/);
    const page = await fetch(`${url}/`, { redirect: "manual" });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "login");
    await page.body?.cancel();
    const json = await fetch(`${url}/overview.json`);
    assert.equal(json.status, 401);
    await json.body?.cancel();
    const bearer = await fetch(`${url}/overview.json`, {
      headers: { authorization: "Bearer s3cret" },
    });
    assert.equal((await bearer.json()).readOnly, true);
    const anonymous = await fetch(`${url}/queues/q`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("www-authenticate"), 'Bearer realm="qite"');
    await anonymous.body?.cancel();
    const listed = await fetch(`${url}/queues`);
    assert.equal(listed.status, 401);
    await listed.body?.cancel();
    const client = createClient(`${url}/queues/q`, {
      headers: { authorization: "Bearer s3cret" },
    });
    await client.send({ body: "let in" });
    assert.equal(text((await client.receive())!.body), "let in");
    const statusWith = async (authorization: string): Promise<number> => {
      const response = await fetch(`${url}/queues/q/stats`, { headers: { authorization } });
      await response.body?.cancel();
      return response.status;
    };
    for (
      const refused of [
        "Bearer s3creT", // same length, last byte differs
        "Bearer x3cret", // same length, first byte differs
        "Bearer s3cre",
        "Bearer s3crett",
        "Bearer ",
        "Bearer",
        "s3cret",
        "Basic s3cret",
        "Bearer s3cret s3cret",
      ]
    ) {
      assert.equal(await statusWith(refused), 401, refused);
    }
    for (const accepted of ["bearer s3cret", "BEARER s3cret", "Bearer   s3cret"]) {
      assert.equal(await statusWith(accepted), 200, accepted);
    }
  });
});

test("SIGTERM ends long polls without handing out messages, then exits with 0", async () => {
  await withServer([], async ({ url, child, exited, output }, path) => {
    const polling = fetch(`${url}/queues/q?timeout=20s`);
    await sleep(500); // the poll reaches the server and waits
    const started = Date.now();
    child.kill("SIGTERM");
    const answer = await polling;
    assert.equal(answer.status, 204);
    assert.equal(await exited, 0);
    assert.match(output(), /qite: SIGTERM, shutting down\nqite: stopped\n$/);
    assert.ok(Date.now() - started < 5000, "the shutdown did not wait for the long poll's timeout");
    using db = open(path);
    const queue = new Queue({ db, name: "q" });
    assert.equal((await queue.stats()).total, 0);
  });
});

test("The README's curl commands work as printed", async (t) => {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
  } catch {
    t.skip("curl is not installed");
    return;
  }
  const readme = readFileSync(README, "utf8");
  const block = readme.match(/```sh\n(# the curl tour[\s\S]*?)```/)?.[1];
  assert.ok(block, "the README has the curl tour");
  await withServer([], ({ url }, path) => {
    const script = block.replaceAll("localhost:8080", url.replace("http://", ""));
    const output = execFileSync("sh", ["-e", "-c", script], {
      encoding: "utf8",
      cwd: dirname(path),
    });
    assert.match(output, /"Body":"aGVsbG8="/, "the message was received");
    assert.match(output, /\{"Total":0,/, "and deleted");
    return Promise.resolve();
  });
});

test("Bodies refused unread (415, 413) leave the server running and the connection usable", async () => {
  await withServer([], async ({ port, child }) => {
    const message = JSON.stringify({ Message: { Body: btoa("x") } });
    // Over the default limit (4/3 MiB of base64 plus 64 KiB): sent whole, without Expect, so the
    // body is already buffered when the handler refuses it.
    const big = `{"Message":{"Body":"${"A".repeat(1_500_000)}"}}`;
    const cases: Array<[string, string, Record<string, string>, number]> = [
      ["POST", message, { "content-type": "application/xml" }, 415],
      ["PUT", message, { "content-type": "image/png" }, 415],
      ["DELETE", message, { "content-type": "text/html" }, 415],
      ["POST", big, {}, 413],
      ["PUT", big, {}, 413],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [method, body, headers, status] of cases) {
        const answer = await httpRequest(port, method, "/queues/q", { body, headers });
        assert.equal(answer.status, status, `${method} ${JSON.stringify(headers)}: ${answer.raw}`);
        const health = await httpRequest(port, "GET", "/health");
        assert.equal(health.status, 200, `the server answers after ${method} got ${status}`);
      }
    }
    // On a kept-alive connection, the request after a refused body is answered.
    const pipelined = await rawRequest(
      port,
      `POST /queues/q HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n` +
        `Content-Length: ${message.length}\r\n\r\n${message}` +
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      { untilClose: true },
    );
    assert.match(pipelined.raw, /^HTTP\/1\.1 415 [^]*HTTP\/1\.1 200 [^]*ok\n/);
    // A streamed body (chunked, no Content-Length) that grows past the limit.
    const chunk = "A".repeat(65536);
    const chunked = [
      "POST /queues/q HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(24),
      "0\r\n\r\n",
    ].join("");
    const streamed = await rawRequest(port, chunked);
    assert.equal(streamed.status, 413, streamed.raw.slice(0, 200));
    await sleep(100);
    assert.equal(child.exitCode, null, "the server process is alive");
    assert.equal((await httpRequest(port, "GET", "/health")).status, 200);
  });
});

test("Odd methods get the same answers over TCP as far as the runtime's parser lets them through", async () => {
  const runtime = detectRuntime();
  const notImplemented = (method: string): [number, string] => [
    501,
    `method ${method} is not implemented\n`,
  ];
  /** What each runtime's own HTTP parser does before qite sees the request. */
  const refusedByParser: Record<string, [number, string]> = runtime === "bun"
    ? { FOO: [0, ""], get: [0, ""], Get: [0, ""], patch: [0, ""] } // Bun closes the connection
    : {};
  await withServer([], async ({ port, child }) => {
    for (
      const [method, path, status, body] of [
        ["FOO", "/queues/q", ...notImplemented("FOO")],
        ["get", "/queues/q", ...notImplemented("get")],
        ["Get", "/health", ...notImplemented("Get")],
        ["patch", "/queues/q", ...notImplemented("patch")],
        ["PROPFIND", "/queues/q", ...notImplemented("PROPFIND")],
        ["TRACE", "/queues/q", ...notImplemented("TRACE")],
        ["CONNECT", "127.0.0.1:1", ...notImplemented("CONNECT")],
        ["PATCH", "/queues/q", 405, "method PATCH is not allowed here\n"],
        ["POST", "/health", 405, "method POST is not allowed here\n"],
        ["DELETE", "/queues", 405, "method DELETE is not allowed here\n"],
      ] as Array<[string, string, number, string]>
    ) {
      const [wantStatus, wantBody] = refusedByParser[method] ?? [status, body];
      const answer = await httpRequest(port, method, path);
      assert.equal(answer.status, wantStatus, `${method} ${path}: ${answer.raw}`);
      assert.equal(answer.body, wantBody, `${method} ${path}`);
      if (wantStatus === 0) assert.ok(answer.closed, `${method}: the connection was closed`);
      if (wantStatus === 405) assert.ok(answer.headers.allow, `${method} ${path} has Allow`);
      if (wantBody !== "") {
        assert.equal(answer.headers["content-type"], "text/plain; charset=utf-8");
        assert.equal(answer.headers["x-content-type-options"], "nosniff");
      }
    }
    assert.equal(child.exitCode, null);
    assert.equal((await httpRequest(port, "GET", "/health")).status, 200);
  });
});

test("A TypeError from authorize is a 500 without detail over TCP, on every route", async () => {
  const logged: string[] = [];
  await using server = await serve({
    db: ":memory:",
    port: 0,
    authorize: () => {
      throw new TypeError("the token table is missing: s3cret");
    },
    logger: { info: (_message, fields) => logged.push(String(fields?.error)) },
  });
  for (const [method, path] of [["GET", "/queues"], ["GET", "/queues/q"], ["POST", "/queues/q"]]) {
    const answer = await httpRequest(server.port, method!, path!, { body: "{}" });
    assert.equal(answer.status, 500, `${method} ${path}`);
    assert.equal(answer.body, "internal server error\n");
  }
  assert.equal(logged.length, 3);
  assert.match(logged[0]!, /^TypeError: the token table is missing/);
});

test("SIGTERM waits at most --shutdown-grace for a request still arriving, and a second signal not at all", async () => {
  for (const second of [false, true]) {
    const grace = second ? 60_000 : 500;
    await withServer(
      ["--shutdown-grace", String(grace)],
      async ({ url, child, exited, output }) => {
        // A client that sends half a body and stalls.
        const { port } = new URL(url);
        const stalled = connect(Number(port), "127.0.0.1");
        await new Promise((resolve) => stalled.once("connect", resolve));
        stalled.write('POST /queues/q HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n{"Mes');
        stalled.on("error", () => {});
        await sleep(300); // the server reads the headers
        const started = Date.now();
        child.kill("SIGTERM");
        if (second) {
          await sleep(300);
          process.kill(child.pid!, "SIGTERM"); // Deno's child.kill() signals once only
        }
        assert.equal(await exited, 0);
        const waited = Date.now() - started;
        assert.ok(waited < 5000, `exited ${waited} ms after the first signal`);
        if (second) {
          assert.match(output(), /qite: SIGTERM again, stopping now\n/);
          assert.match(output(), /qite: stopped, without waiting for requests still arriving\n$/);
        } else {
          assert.ok(waited >= 450, `exited ${waited} ms after the signal, before the grace`);
          assert.match(
            output(),
            /qite: stopped, after waiting 500 ms for requests still arriving\n$/,
          );
        }
        stalled.destroy();
      },
    );
  }
});

test("On SIGTERM, a request whose body is still arriving is answered once it has arrived", async () => {
  await withServer([], async ({ url, child, exited }, path) => {
    const { port } = new URL(url);
    const stalled = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => stalled.once("connect", resolve));
    let answer = "";
    stalled.on("data", (chunk) => answer += chunk);
    stalled.on("error", () => {});
    const body = JSON.stringify({ Message: { Body: btoa("late") } });
    stalled.write(
      `POST /queues/late HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 11),
    );
    await sleep(300); // the server reads the headers and the first part
    child.kill("SIGTERM");
    await sleep(500);
    stalled.write(body.slice(11));
    assert.equal(await exited, 0);
    assert.match(answer, /^HTTP\/1\.1 200 /, JSON.stringify(answer));
    stalled.destroy();
    const db = open(path);
    try {
      assert.equal(Number(db.prepare("select count(*) as n from goqite").get()!.n), 1);
    } finally {
      db.close();
    }
  });
});

/** The status of each response in `raw` (latin1 text of every byte a connection received). */
function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}

test("Pipelined requests are answered in order, each after the one before it has run, over TCP", async () => {
  await withServer([], async ({ port }) => {
    const send = JSON.stringify({ Message: { Body: btoa("hi") } });
    const size = send.length.toString(16);
    // A chunked send (Node's Web-standard path), then a plain receive (its fast path), then the
    // stats: the receive runs after the send, on every runtime.
    const answer = await rawRequest(
      port,
      "POST /queues/p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `${size}\r\n${send}\r\n0\r\n\r\n` +
        "GET /queues/p HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /queues/p/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      { untilClose: true },
    );
    assert.deepEqual(statuses(answer.raw), [200, 200, 200], answer.raw);
    assert.match(answer.raw, /"Body":"aGk="/);
    // A request the parser refuses, pipelined after a good one: the good one is answered as
    // itself (what follows is the runtime's: a 501, or the connection closes).
    for (
      const [first, queue] of [
        [
          `POST /queues/b HTTP/1.1\r\nHost: x\r\nContent-Length: ${send.length}\r\n\r\n${send}`,
          "b",
        ],
        ["GET /queues/p2?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "p2"],
      ] as const
    ) {
      const bad = await rawRequest(port, `${first}FOO / HTTP/1.1\r\nHost: x\r\n\r\n`, {
        untilClose: true,
        wait: 1500, // Deno answers the FOO too and keeps the connection
      });
      assert.equal(statuses(bad.raw)[0], queue === "b" ? 200 : 204, bad.raw);
      assert.doesNotMatch(bad.raw.split("\r\n\r\n")[0]!, /not implemented/);
    }
    const stats = await rawRequest(port, "GET /queues/b/stats HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(JSON.parse(stats.body).Total, 1);
  });
});

test("A request target or Host means the same on every path of the server, over TCP", async () => {
  await withServer([], async ({ port }) => {
    const send = JSON.stringify({ Message: { Body: btoa("x") } });
    const post = (target: string, host = "x") =>
      rawRequest(
        port,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${send.length}\r\n\r\n${send}`,
      );
    // A target that starts with // is a path, never a host.
    assert.equal((await post("//queues/q")).status, 200);
    assert.equal((await post("//h/queues/q")).status, 404);
    assert.equal((await post("//h/queues/q?x=1")).status, 404);
    // Credentials in the Host: the same answer with and without a query.
    const plain = await post("/queues/q", "u:p@x");
    const withQuery = await post("/queues/q?x=1", "u:p@x");
    assert.equal(plain.status, withQuery.status);
  });
});

test("The server refuses what a browser sends for another site's page, and serves the rest, over TCP", async () => {
  await using server = await serve({ db: ":memory:", port: 0 });
  const { port } = server;
  const send = (headers: Record<string, string>, contentType = "text/plain") =>
    httpRequest(port, "POST", "/queues/q", {
      body: JSON.stringify({ Message: { Body: btoa("x") } }),
      headers: { "content-type": contentType, ...headers },
    });
  // A form or a text/plain fetch from another page needs no preflight: the browser marks it.
  for (
    const headers of [
      { "sec-fetch-site": "cross-site", origin: "http://evil.test" },
      { "sec-fetch-site": "same-site", origin: `http://other.localhost:${port}` },
      { origin: "http://evil.test" }, // a browser without Sec-Fetch-*
      { origin: "null" },
    ]
  ) {
    const answer = await send(headers);
    assert.equal(answer.status, 403, JSON.stringify(headers));
    assert.match(answer.body, /cross-site/);
  }
  assert.equal(
    (await httpRequest(port, "GET", "/queues/q", {
      headers: { "sec-fetch-site": "cross-site" },
    })).status,
    403,
    "a cross-site GET would receive",
  );
  assert.equal(
    (await httpRequest(port, "DELETE", "/queues/q", {
      body: JSON.stringify({ Message: { ID: "m_x" } }),
      headers: { origin: "http://evil.test" },
    })).status,
    403,
  );
  assert.equal((await fetch(`${server.url}/queues/q/stats`).then((r) => r.json())).Total, 0);
  // Clients that are not browsers send neither header; a browser on the server's own page, or a
  // typed address, says so.
  assert.equal((await send({})).status, 200);
  assert.equal((await send({}, "application/json")).status, 200);
  assert.equal((await send({ "sec-fetch-site": "same-origin" })).status, 200);
  assert.equal((await send({ origin: "http://127.0.0.1" })).status, 200, "Host: 127.0.0.1");
  assert.equal(
    (await httpRequest(port, "GET", "/queues/q", {
      headers: { "sec-fetch-site": "none" },
    })).status,
    200,
  );
});

test("Requests to more queues than the server keeps open never end a long poll, over TCP", async () => {
  await using server = await serve({ db: ":memory:", port: 0, dashboard: true });
  const waiting = createClient(`${server.url}/queues/waiting`);
  const poll = waiting.receiveAndWait({ signal: AbortSignal.timeout(30_000) });
  await sleep(100);
  // 1 100 other queues, through the API and the dashboard: beyond the 1 000 the router keeps.
  for (let i = 0; i < 1100; i++) {
    const path = i % 2 === 0 ? `/queues/other${i}/stats` : `/queue.json?name=other${i}`;
    const answer = await fetch(`${server.url}${path}`);
    assert.equal(answer.status, 200, `${path}: ${await answer.clone().text()}`);
    await answer.body?.cancel();
  }
  await waiting.send({ body: "for the poll" });
  const message = await poll;
  assert.equal(text(message.body), "for the poll");
  assert.equal(message.received, 1);
});

test(
  "On Deno, long polls work with and without --unstable-no-legacy-abort; without it Deno warns",
  {
    skip: detectRuntime() !== "deno",
  },
  async () => {
    for (const legacyAbort of [true, false]) {
      await withServer([], async ({ url, output }) => {
        const queue = createClient(`${url}/queues/q`);
        // A long poll whose client goes away ends without taking what arrives afterwards.
        const gone = new AbortController();
        const polling = fetch(`${url}/queues/q?timeout=5s`, { signal: gone.signal }).catch(
          () => {},
        );
        await sleep(100);
        gone.abort();
        await polling;
        await sleep(100);
        await queue.send({ body: "after" });
        // A long poll that gets a message, and one that times out.
        const message = await queue.receiveAndWait({ signal: AbortSignal.timeout(3000) });
        assert.equal(text(message.body), "after");
        assert.equal(message.received, 1, "the abandoned poll did not take it first");
        const empty = await fetch(`${url}/queues/q?timeout=50ms`);
        assert.equal(empty.status, 204);
        await sleep(100);
        const warned = /request\.signal aborts on successful responses \(legacy behavior\)/;
        if (legacyAbort) assert.match(output(), warned);
        else assert.doesNotMatch(output(), warned);
        assert.equal((await queue.stats()).inFlight, 1, "only the live poll took the message");
      }, legacyAbort);
    }
  },
);

test("Expect: 100-continue: the body is asked for when read; on Node a refused one never is", async () => {
  await withServer([], async ({ port }) => {
    const body = JSON.stringify({ Message: { Body: btoa("continued") } });
    const head = (type: string): string =>
      `POST /queues/q HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\n` +
      `Content-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`;
    // Refused by its type without reading: Node says no 100 Continue; Deno and Bun send it anyway.
    const refused = await rawRequest(port, head("application/xml"));
    assert.equal(refused.status, 415);
    assert.equal(refused.raw.startsWith("HTTP/1.1 100 Continue\r\n"), detectRuntime() !== "node");
    // Accepted: the server asks for the body, gets it, and sends the message.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      let received = "";
      let sent = false;
      socket.on("data", (chunk) => {
        received += chunk;
        if (!sent && received.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
          sent = true;
          socket.write(body);
        }
      });
      socket.on("close", () => resolve(received));
      socket.on("error", reject);
      socket.write(head("application/json"));
    });
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal(
      text((await createClient(`http://127.0.0.1:${port}/queues/q`).receive())!.body),
      "continued",
    );
  });
});

test("The standalone server serves a PostgreSQL database given as QITE_DB, then ends", async () => {
  const database = new TestDatabase(testClients()[0]!);
  let started: Started | undefined;
  try {
    started = await startServer(["--schema", database.schema], false, { QITE_DB: PG_URL });
    const { url, child, output, exited } = started;
    assert.match(output(), /^qite: serving postgres:\/\/.* \((postgres\.js|Bun\.sql), PostgreSQL/);
    const emails = createClient(`${url}/queues/emails`);
    const id = await emails.send({ body: "hello", priority: 1 });
    const message = await emails.receive();
    assert.equal(message?.id, id);
    assert.equal(text(message!.body), "hello");
    assert.deepEqual(await (await fetch(`${url}/queues`)).json(), { Queues: ["emails"] });
    assert.equal(await emails.delete(message!), true);
    // PostgreSQL's priority is 32 bits: beyond them, the client's mistake (400), sending nothing.
    for (
      const body of [{ Message: { Body: "", Priority: 2 ** 31 } }, {
        Messages: [{ Body: "" }, { Body: "", Priority: -(2 ** 31) - 1 }],
      }]
    ) {
      const refused = await fetch(`${url}/queues/emails`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      assert.equal(refused.status, 400, await refused.clone().text());
      assert.match(await refused.text(), /priority/);
    }
    await emails.send({ body: "stays" });
    const polling = fetch(`${url}/queues/other?timeout=20s`);
    await sleep(500); // the poll reaches the server and waits
    child.kill("SIGTERM");
    assert.equal((await polling).status, 204);
    assert.equal(await exited, 0);
    assert.equal(await database.count(), 1, "the table is PostgreSQL's");
  } finally {
    if (started?.child.exitCode === null) started.child.kill("SIGKILL");
    await database.close();
  }
});

test("serve().close() does not wait for connections that sent no request, as browsers keep", async () => {
  const server = await serve({ db: ":memory:", port: 0 });
  const spare = connect(server.port, "127.0.0.1");
  await new Promise((resolve) => spare.once("connect", resolve));
  const started = Date.now();
  await server.close();
  spare.destroy();
  assert.ok(Date.now() - started < 3000, `close() took ${Date.now() - started} ms`);
});
