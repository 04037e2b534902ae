/**
 * The standalone server's fast path for goqite's hot routes (a send, a receive without a query, a
 * delete on /queues/{name}): on Node it answers them without building `Request` and `Response`.
 * Each request here is sent twice over TCP to the real server, once as the fast path takes it
 * (a Content-Length body, no query) and once in a form the fast path leaves to the Web-standard
 * handler (a chunked body, a query the receive ignores), to two queues that see the same
 * sequence: the answers must be the same. On Node the framing of the answers shows which path
 * answered (the fast path writes a Content-Length, the Web-standard one chunks), so the test also
 * checks that both paths were taken.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { detectRuntime } from "../src/runtime/detect.ts";
import { type RawAnswer, rawRequest, withServer } from "./_server.ts";

/** Headers that differ between two answers for reasons other than their content. */
const FRAMING = new Set([
  "date",
  "connection",
  "keep-alive",
  "content-length",
  "transfer-encoding",
]);

/** An answer with its ids, deliveries and framing headers made comparable. */
function comparable(answer: RawAnswer): string {
  const headers = Object.entries(answer.headers)
    .filter(([name]) => !FRAMING.has(name))
    .map(([name, value]) => `${name}: ${value}`)
    .sort();
  return [answer.status, ...headers, answer.body].join("\n")
    .replace(/m_[0-9a-f]{32}/g, "<id>")
    .replace(/\d+\/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<delivery>");
}

function fastRequest(method: string, queue: string, body?: string): string {
  const head = `${method} /queues/${queue} HTTP/1.1\r\nhost: 127.0.0.1\r\n`;
  if (body === undefined) return `${head}\r\n`;
  return `${head}content-type: application/json\r\ncontent-length: ${
    new TextEncoder().encode(body).length
  }\r\n\r\n${body}`;
}

function webRequest(method: string, queue: string, body?: string): string {
  if (body === undefined) {
    return `${method} /queues/${queue}?fast=no HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;
  }
  const size = new TextEncoder().encode(body).length.toString(16);
  return `${method} /queues/${queue} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
    "content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n" +
    (body === "" ? "0\r\n\r\n" : `${size}\r\n${body}\r\n0\r\n\r\n`);
}

test("The server's fast path for send, receive and delete answers as its Web-standard handler does", async () => {
  await withServer([], async ({ port }) => {
    // The last message id each queue answered with, for the deletes.
    const last = { fast: "", web: "" };
    const both = async (
      method: string,
      body?: string | ((id: string) => string),
    ): Promise<void> => {
      const bodyFor = (id: string): string | undefined =>
        typeof body === "function" ? body(id) : body;
      const fast = await rawRequest(port, fastRequest(method, "fast", bodyFor(last.fast)));
      const web = await rawRequest(port, webRequest(method, "web", bodyFor(last.web)));
      const what = `${method} ${bodyFor("<id>") ?? ""}`;
      assert.equal(comparable(fast), comparable(web), what);
      if (detectRuntime() === "node") {
        assert.ok(fast.headers["content-length"] !== undefined || fast.status === 204, what);
        assert.ok(fast.headers["transfer-encoding"] === undefined, what);
        if (web.status !== 204) assert.equal(web.headers["transfer-encoding"], "chunked", what);
      }
      last.fast = fast.body.match(/m_[0-9a-f]{32}/)?.[0] ?? last.fast;
      last.web = web.body.match(/m_[0-9a-f]{32}/)?.[0] ?? last.web;
    };
    const message = (fields: string): string => `{"Message":{${fields}}}`;
    await both("GET"); // 204: nothing there yet
    await both("POST", message(`"Body":"eW8=","Priority":2`));
    await both("POST", message(`"Body":"aGk="`));
    await both("POST", message(`"Body":"eW8=","Delay":-1`)); // 400
    await both("POST", message(`"Body":null`)); // 400
    // 413: one byte over the default maxBodySize (1 MiB), within the request size limit.
    await both("POST", message(`"Body":"${btoa("x".repeat(1024 * 1024 + 1))}"`));
    await both("POST", "{not json"); // 400
    await both("POST", ""); // 400
    await both("POST", `{"Messages":[{"Body":"YQ=="},{"Body":"Yg=="}]}`);
    await both("GET"); // the one of priority 2
    await both("DELETE", (id) => message(`"ID":"${id}"`));
    await both("DELETE", (id) => message(`"ID":"${id}"`)); // gone: applied false
    await both("DELETE", message(`"ID":""`)); // 400
    await both("DELETE", (id) => message(`"ID":"${id}","Delivery":"1/2000-01-01T00:00:00.000Z"`));
    await both("GET");
    await both("DELETE", (id) => message(`"ID":"${id}","Delivery":"9/2000-01-01T00:00:00.000Z"`)); // 409
  });
});
