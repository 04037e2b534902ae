/**
 * The malformed-request suite through the real standalone server: `http/cli.ts` started as a
 * child process of this runtime (Deno, Bun or Node), every request sent as raw bytes over TCP.
 * First the generated requests of `_malformed.ts` (well-formed HTTP, bad content), then raw
 * malformed HTTP (bad request lines and headers, truncated bodies, wrong lengths, broken chunked
 * framing, huge headers), then slow partial requests. After every batch the process must be alive
 * and `GET /health` must answer; at the end the table must be as it was.
 *
 * @module
 */

import { concatBytes } from "../src/_bytes.ts";
import assert from "node:assert/strict";
import { test } from "node:test";
import { open, Queue } from "../mod.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { acceptable, generate, type Malformed, random } from "./_malformed.ts";
import { httpRequest, type RawAnswer, rawRequest, type Started, withServer } from "./_server.ts";

const SEED = 20261126;
/** The CLI's defaults (the handler's defaults): maxBodySize 1 MiB, and the request limit. */
const MAX_BODY_SIZE = 1024 * 1024;
const MAX_REQUEST_SIZE = 4 * Math.ceil(MAX_BODY_SIZE / 3) + 65536;
const BATCH = 100;
const PARALLEL = 4;

const encoder = new TextEncoder();

const concat = concatBytes;

/** A generated request as HTTP/1.1 bytes: Content-Length, or chunked for a streamed body. */
async function toBytes(item: Malformed): Promise<Uint8Array> {
  const url = new URL(`/queues/q${item.path}`, "http://127.0.0.1");
  const lines = [`${item.method} ${url.pathname}${url.search} HTTP/1.1`, "Host: 127.0.0.1"];
  lines.push("Connection: close");
  for (const [name, value] of Object.entries(item.headers ?? {})) lines.push(`${name}: ${value}`);
  const parts: Uint8Array[] = [];
  if (typeof item.body === "string") {
    const body = encoder.encode(item.body);
    lines.push(`Content-Length: ${body.length}`);
    parts.push(body);
  } else if (item.body !== undefined) {
    lines.push("Transfer-Encoding: chunked");
    for await (const chunk of item.body) {
      parts.push(encoder.encode(`${chunk.length.toString(16)}\r\n`), chunk, encoder.encode("\r\n"));
    }
    parts.push(encoder.encode("0\r\n\r\n"));
  }
  return concat([encoder.encode(`${lines.join("\r\n")}\r\n\r\n`), ...parts]);
}

/** Runs `jobs` at most `limit` at a time. */
async function pool<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** The server process is alive and its health check answers. */
async function assertUp(server: Started, after: string): Promise<void> {
  assert.equal(
    server.child.exitCode,
    null,
    `the server exited after ${after}:\n${server.output()}`,
  );
  const health = await httpRequest(server.port, "GET", "/health", { wait: 5000 });
  assert.equal(health.status, 200, `GET /health after ${after}: ${health.raw.slice(0, 200)}`);
}

/** One raw case: the bytes, how to send them, and what may come back. */
interface RawCase {
  readonly name: string;
  readonly bytes: string;
  /** Half-close after sending (the client says it is done). */
  readonly end?: boolean;
  /** The request is incomplete and stays open: the server may wait; the test stops waiting. */
  readonly incomplete?: boolean;
  /** The request is well-formed enough that a lenient parser may pass it to qite. */
  readonly lenient?: boolean;
}

const BAD_JSON = "abcde";
const tail = "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";

/** Raw malformed HTTP. Every request targets a read-only route or carries a body qite refuses. */
function rawCases(next: () => number): RawCase[] {
  const cases: RawCase[] = [];
  const add = (name: string, bytes: string, extra: Partial<RawCase> = {}): void => {
    cases.push({ name, bytes, ...extra });
  };
  // Request lines.
  add("empty lines", "\r\n\r\n\r\n", { end: true });
  add("method only", "GET\r\n\r\n");
  add("HTTP/0.9", "GET /queues/q/stats\r\n\r\n", { lenient: true });
  add("unknown version", `GET /queues/q/stats HTTP/9.9\r\n${tail}`);
  add("bad version", `GET /queues/q/stats HTTP/1.x\r\n${tail}`);
  add("lower-case version", `GET /queues/q/stats http/1.1\r\n${tail}`);
  add("extra token", `GET /queues/q/stats HTTP/1.1 extra\r\n${tail}`);
  add("double spaces", `GET  /queues/q/stats  HTTP/1.1\r\n${tail}`, { lenient: true });
  add("leading space", ` GET /queues/q/stats HTTP/1.1\r\n${tail}`);
  add("NUL in method", `G\0T /queues/q/stats HTTP/1.1\r\n${tail}`);
  add("no slash", `GET queues/q/stats HTTP/1.1\r\n${tail}`);
  add("bad percent", `GET /queues/%zz HTTP/1.1\r\n${tail}`);
  add("percent NUL", `GET /queues/%00/stats HTTP/1.1\r\n${tail}`);
  add("DEL in target", `GET /queues/q\x7f/stats HTTP/1.1\r\n${tail}`);
  add("raw UTF-8 in target", `GET /queues/\xc3\xa9/stats HTTP/1.1\r\n${tail}`, { lenient: true });
  add("long target", `GET /queues/q/stats?${"a".repeat(100_000)} HTTP/1.1\r\n${tail}`, {
    lenient: true,
  });
  add("absolute form", `GET http://other.invalid/queues/q/stats HTTP/1.1\r\n${tail}`, {
    lenient: true,
  });
  add("asterisk", `GET * HTTP/1.1\r\n${tail}`, { lenient: true });
  add("OPTIONS asterisk", `OPTIONS * HTTP/1.1\r\n${tail}`, { lenient: true });
  add("a response", `HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`);
  // Deno answers with HTTP/2 frames (prior knowledge) and waits for more.
  add("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", { incomplete: true });
  add("TLS hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + "\x00".repeat(40));
  add("bare LF", "GET /queues/q/stats HTTP/1.1\nHost: x\nConnection: close\n\n", { lenient: true });
  add("no final CRLF, closed", "GET /queues/q/stats HTTP/1.1\r\nHost: x\r\n", { end: true });
  for (let i = 0; i < 20; i++) {
    const length = 1 + Math.floor(next() * 200);
    const bytes = Array.from({ length }, () => String.fromCharCode(Math.floor(next() * 256)));
    add(`random bytes ${i}`, `${bytes.join("")}\r\n\r\n`, { lenient: true });
  }
  // Headers.
  add("no colon", `GET /queues/q/stats HTTP/1.1\r\nHost x\r\nConnection: close\r\n\r\n`);
  add("space before colon", `GET /queues/q/stats HTTP/1.1\r\nHost : x\r\n${tail}`);
  add("empty name", `GET /queues/q/stats HTTP/1.1\r\n: v\r\n${tail}`);
  add("space in name", `GET /queues/q/stats HTTP/1.1\r\nBad Name: v\r\n${tail}`);
  add("NUL in name", `GET /queues/q/stats HTTP/1.1\r\nX-\0: v\r\n${tail}`);
  add("NUL in value", `GET /queues/q/stats HTTP/1.1\r\nX-Bad: a\0b\r\n${tail}`);
  add("CR in value", `GET /queues/q/stats HTTP/1.1\r\nX-Bad: a\rb\r\n${tail}`);
  add("obs-fold", `GET /queues/q/stats HTTP/1.1\r\nX-Fold: a\r\n b\r\n${tail}`);
  add("no Host", "GET /queues/q/stats HTTP/1.1\r\nConnection: close\r\n\r\n", { lenient: true });
  add("two Hosts", `GET /queues/q/stats HTTP/1.1\r\nHost: a\r\n${tail}`, { lenient: true });
  add("bad Host", `GET /queues/q/stats HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`);
  add("many headers", `GET /queues/q/stats HTTP/1.1\r\n${"X-A: b\r\n".repeat(2000)}${tail}`, {
    lenient: true,
  });
  add(
    "one huge header",
    `GET /queues/q/stats HTTP/1.1\r\nX-Big: ${"a".repeat(200_000)}\r\n${tail}`,
  );
  add(
    "1 MiB of headers",
    `GET /queues/q/stats HTTP/1.1\r\n${`X-B: ${"b".repeat(1000)}\r\n`.repeat(1024)}${tail}`,
  );
  add("headers never end", `GET /queues/q/stats HTTP/1.1\r\nX-A: b`, { end: true });
  // Content-Length.
  const post = (headers: string, body: string): string =>
    `POST /queues/q HTTP/1.1\r\n${headers}${tail}${body}`;
  add("negative length", post("Content-Length: -1\r\n", BAD_JSON));
  add("text length", post("Content-Length: abc\r\n", BAD_JSON));
  add("two numbers", post("Content-Length: 1 2\r\n", BAD_JSON));
  add("huge length", post("Content-Length: 99999999999999999999\r\n", BAD_JSON));
  add("conflicting lengths", post("Content-Length: 5\r\nContent-Length: 6\r\n", BAD_JSON));
  add("listed lengths", post("Content-Length: 5, 5\r\n", BAD_JSON), { lenient: true });
  add("length shorter than body", post("Content-Length: 3\r\n", '{"Message":{"Body":"aGk="}}'));
  add("length longer than body", post("Content-Length: 100\r\n", BAD_JSON), { incomplete: true });
  add("truncated body, closed", post("Content-Length: 100\r\n", BAD_JSON), { end: true });
  add("length over the limit, no body", post(`Content-Length: ${MAX_REQUEST_SIZE + 1}\r\n`, ""));
  add("GET with a body", `GET /queues/q/stats HTTP/1.1\r\nContent-Length: 5\r\n${tail}abcde`, {
    lenient: true,
  });
  // Transfer-Encoding and chunked framing.
  const chunked = (body: string, te = "chunked"): string =>
    post(`Transfer-Encoding: ${te}\r\n`, body);
  add(
    "chunked and length",
    post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "5\r\nabcde\r\n0\r\n\r\n"),
  );
  add("gzip coding", chunked("5\r\nabcde\r\n0\r\n\r\n", "gzip"));
  add("chunked then gzip", chunked("5\r\nabcde\r\n0\r\n\r\n", "chunked, gzip"));
  add("identity", chunked(BAD_JSON, "identity"));
  add("xchunked", chunked(BAD_JSON, "xchunked"));
  add("bad hex size", chunked("zz\r\nabcde\r\n0\r\n\r\n"));
  add("negative size", chunked("-1\r\nabcde\r\n0\r\n\r\n"));
  add("huge size", chunked("ffffffffffffffffffff\r\nabcde\r\n0\r\n\r\n"));
  add("size over the data, closed", chunked("100\r\nabcde"), { end: true });
  add("size under the data", chunked("3\r\nabcde\r\n0\r\n\r\n"));
  add("no CRLF after data", chunked("5\r\nabcdeXX0\r\n\r\n"));
  add("extension", chunked("5;x=1\r\nabcde\r\n0\r\n\r\n"), { lenient: true });
  add("huge extension", chunked(`5;x=${"a".repeat(100_000)}\r\nabcde\r\n0\r\n\r\n`));
  add("no last chunk, closed", chunked("5\r\nabcde\r\n"), { end: true });
  add("no last chunk, open", chunked("5\r\nabcde\r\n"), { incomplete: true });
  add("bad trailer", chunked("5\r\nabcde\r\n0\r\nBad Trailer\r\n\r\n"));
  add(
    "chunked body over the limit",
    chunked(`${"10000\r\n" + "a".repeat(65536) + "\r\n"}`.repeat(24) + "0\r\n\r\n"),
  );
  // Partial requests left open.
  add("request line only", "GET /queues/q/stats HTTP/1.1\r\n", { incomplete: true });
  add("half a header", "GET /queues/q/stats HTTP/1.1\r\nHost: 12", { incomplete: true });
  return cases;
}

/** Whether a raw answer is acceptable: no 5xx but 501/505, and 2xx only if a parser let it through. */
function rawAcceptable(item: RawCase, answer: RawAnswer): string | undefined {
  const { status } = answer;
  if (status === 0) {
    if (answer.timedOut && !item.incomplete) return "neither an answer nor a closed connection";
    return undefined;
  }
  if (status >= 500 && status !== 501 && status !== 505) return `a ${status}`;
  if (status < 400 && !item.lenient) return `a ${status} for a malformed request`;
  if (status < 300 && !/^(GET|OPTIONS) /.test(item.bytes) && item.name !== "a response") {
    return `a ${status} for a request that changes something`;
  }
  return undefined;
}

test("The standalone server stays up through ≥ 1000 malformed requests over TCP, refuses each, and changes nothing", async () => {
  await withServer(["--timeout", "60000"], async (server, path) => {
    const { port } = server;
    // The rows the requests must not change: one visible, one delayed, one in flight.
    {
      using db = open(path);
      const queue = new Queue({ db, name: "q", timeout: 60_000 });
      await queue.send({ body: "in flight" });
      assert.ok(await queue.receive());
      await queue.sendBatch([{ body: "visible" }, { body: "delayed", delay: 60_000 }]);
    }
    const snapshot = (): string => {
      using db = open(path);
      return JSON.stringify(
        db.prepare("select * from goqite order by id").all().map((row) => ({
          ...row,
          body: [...(row.body as Uint8Array)],
        })),
      );
    };
    const before = snapshot();
    const next = random(SEED);

    // 1. The generated requests: well-formed HTTP, malformed content.
    const generated = generate(next, {
      maxRequestSize: MAX_REQUEST_SIZE,
      maxBodySize: MAX_BODY_SIZE,
    });
    for (let start = 0; start < generated.length; start += BATCH) {
      const batch = generated.slice(start, start + BATCH);
      await pool(
        batch.map((item) => async () => {
          const answer = await rawRequest(port, await toBytes(item), { wait: 10_000 });
          assert.ok(
            acceptable(item, answer.status),
            `${item.category}: ${item.method} ${item.path} ${
              typeof item.body === "string" ? item.body.slice(0, 80) : ""
            } -> ${answer.raw.slice(0, 300)}`,
          );
        }),
        PARALLEL,
      );
      await assertUp(server, `generated requests ${start} to ${start + batch.length - 1}`);
    }

    // 2. Raw malformed HTTP.
    const raw = rawCases(next);
    const wrongs: string[] = [];
    for (let start = 0; start < raw.length; start += 20) {
      const batch = raw.slice(start, start + 20);
      await pool(
        batch.map((item) => async () => {
          const answer = await rawRequest(port, item.bytes, {
            end: item.end === true,
            wait: item.incomplete ? 300 : 5000,
          });
          const wrong = rawAcceptable(item, answer);
          if (wrong !== undefined) {
            wrongs.push(`${item.name}: ${wrong}: ${answer.raw.slice(0, 200)}`);
          }
        }),
        PARALLEL,
      );
      await assertUp(server, `raw cases ${batch.map((c) => c.name).join(", ")}`);
    }

    assert.deepEqual(wrongs, []);

    // 3. Slow clients: partial requests held open while others are served, one byte at a time.
    const slow = Array.from(
      { length: 32 },
      (_, i) =>
        rawRequest(port, `GET /queues/q/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${i}\r\n`, {
          pieces: 40,
          pause: 25,
          wait: 1500,
        }),
    );
    await assertUp(server, "32 slow partial requests started");
    const stats = await httpRequest(port, "GET", "/queues/q/stats");
    assert.equal(stats.status, 200, "a normal request is served while slow ones trickle in");
    const finished = await rawRequest(port, `GET /queues/q/stats HTTP/1.1\r\n${tail}`, {
      pieces: 10,
      pause: 30,
    });
    assert.equal(finished.status, 200, "a request sent slowly but whole is answered");
    for (const answer of await Promise.all(slow)) {
      assert.ok(answer.status === 0 || answer.status === 408, `a slow request got ${answer.raw}`);
    }
    await assertUp(server, "slow partial requests");

    const total = generated.length + raw.length + slow.length + 1;
    assert.ok(total >= 1000, `${total} requests were sent`);
    assert.equal(snapshot(), before, "the table is unchanged");
    // deno-lint-ignore no-console
    console.log(
      `qite: ${total} requests over TCP to ${detectRuntime()}'s server: ${generated.length} ` +
        `generated, ${raw.length} raw malformed, ${slow.length + 1} slow`,
    );
  });
});
