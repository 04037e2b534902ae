/**
 * The seeded generator of malformed requests shared by the handler suite
 * (`http_fuzz_test.ts`) and the standalone server suite over TCP (`http_server_fuzz_test.ts`).
 *
 * @module
 */

import { b64 } from "./_http.ts";

export { random } from "./_random.ts";

/** One malformed request. */
export interface Malformed {
  readonly category: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string | ReadableStream<Uint8Array>;
  readonly headers?: Record<string, string>;
}

/** Values of every JSON type but the one a field wants. */
const NOT_A_STRING = ["5", "true", "{}", "[]", '["x"]', "1.5", "-0"];
const NOT_AN_INTEGER = ['"5"', "true", "{}", "[]", "1.5", "1e3", "-1.0", '"1s"', "0.0001"];
const HUGE = [
  "9223372036854775808",
  "-9223372036854775809",
  "99999999999999999999999999",
  "1e400",
  "-1e400",
];

/** The limits the requests are made to break. */
export interface Limits {
  readonly maxRequestSize: number;
  readonly maxBodySize: number;
}

/** The malformed requests for a handler with `limits`, in a seeded order. */
export function generate(next: () => number, limits: Limits): Malformed[] {
  const { maxRequestSize: MAX_REQUEST_SIZE, maxBodySize: MAX_BODY_SIZE } = limits;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out: Malformed[] = [];
  const add = (category: string, method: string, body?: string, path = "/"): void => {
    out.push({ category, method, path, ...(body === undefined ? {} : { body }) });
  };
  const valid = [
    ["POST", `{"Message":{"Body":"${b64("hello")}","Delay":0,"Priority":1}}`],
    ["PUT", '{"Message":{"ID":"m_00","Delay":1000000000}}'],
    ["DELETE", '{"Message":{"ID":"m_00"}}'],
    ["POST", `{"Messages":[{"Body":"${b64("a")}"},{"Body":"${b64("b")}"}]}`],
  ] as const;

  // Bad JSON: every proper prefix of valid bodies, random junk, broken syntax.
  for (const [method, body] of valid) {
    for (let i = 0; i < body.length; i += 2) add("bad JSON", method, body.slice(0, i) || " ");
  }
  const junk = ["{", "}", "[", "]", ",", ":", '"', "\\", "x", "'", "NaN", "undefined", "\u0000"];
  for (let i = 0; i < 400; i++) {
    const length = 1 + Math.floor(next() * 12);
    add(
      "bad JSON",
      pick(["POST", "PUT", "DELETE"]),
      Array.from({ length }, () => pick(junk)).join(""),
    );
  }
  for (
    const body of [
      "{'Message':{}}",
      '{"Message":{"Body":"aGk=",}}',
      '{"Message":{"Body":"aGk="}',
      '{"Message" {"Body":"aGk="}}',
      '{"Message":{"Body":"aGk="\u0001}}',
      '{"Message":{"Body":"a\\qGk="}}',
      '{"Message":{"Body":"\\u12"}}',
      '{"Message":{"Delay":01}}',
      '{"Message":{"Delay":+1}}',
      '{"Message":{"Delay":.5}}',
      '{"Message":{"Delay":1.}}',
      '{"Message":{"Priority":--1}}',
      "\ufeff{}",
      `{"a":${"[".repeat(200)}${"]".repeat(200)}}`,
    ]
  ) {
    for (const method of ["POST", "PUT", "DELETE"]) add("bad JSON", method, body);
  }

  // Wrong JSON types, in every field of every method.
  for (const value of ["[]", '"x"', "5", "true", "[{}]"]) {
    for (const method of ["POST", "PUT", "DELETE"]) {
      add("wrong types", method, `{"Message":${value}}`);
      add("wrong types", method, value);
      add("wrong types", method, `{"Messages":${value === "[]" ? "{}" : value}}`);
    }
  }
  for (const value of NOT_A_STRING) {
    add("wrong types", "PUT", `{"Message":{"ID":"m_00","Delay":1,"Delivery":${value}}}`);
    add("wrong types", "DELETE", `{"Message":{"ID":"m_00","Delivery":${value}}}`);
    // (An array of byte values is a Body, as Go decodes a []byte.)
    if (value !== "[]") add("wrong types", "POST", `{"Message":{"Body":${value}}}`);
    add("wrong types", "PUT", `{"Message":{"ID":${value},"Delay":1}}`);
    add("wrong types", "DELETE", `{"Message":{"ID":${value}}}`);
    add("wrong types", "DELETE", `{"Messages":[{"ID":${value}}]}`);
    add("wrong types", "POST", `{"IDs":[${value}]}`, "/dead/redrive");
  }
  for (const value of NOT_AN_INTEGER) {
    add("wrong types", "POST", `{"Message":{"Body":"","Delay":${value}}}`);
    add("wrong types", "POST", `{"Message":{"Body":"","Priority":${value}}}`);
    add("wrong types", "PUT", `{"Message":{"ID":"m_00","Delay":${value}}}`);
    add("wrong types", "PUT", `{"Messages":[{"ID":"m_00","Delay":${value}}]}`);
  }

  // Missing fields.
  for (
    const [method, body, path] of [
      ["POST", "{}"],
      ["POST", "null"],
      ["POST", '{"Message":null}'],
      ["POST", '{"Message":{}}'],
      ["POST", '{"Message":{"Delay":5}}'],
      ["POST", '{"Messages":[{}]}'],
      ["POST", '{"Messages":[{"Body":""},{"Priority":1}]}'],
      ["PUT", "{}"],
      ["PUT", '{"Message":{}}'],
      ["PUT", '{"Message":{"ID":"m_00"}}'],
      ["PUT", '{"Message":{"Delay":5}}'],
      ["PUT", '{"Message":{"ID":"","Delay":5}}'],
      ["PUT", '{"Messages":[{"ID":"m_00"}]}'],
      ["DELETE", "{}"],
      ["DELETE", '{"Message":{}}'],
      ["DELETE", '{"Message":{"ID":""}}'],
      ["DELETE", '{"Messages":[{}]}'],
      ["DELETE", '{"Messages":[null]}'],
      ["POST", '{"Message":{"Body":""}}', "/dead/redrive"],
      ["POST", '{"IDs":[""]}', "/dead/redrive"],
    ] as Array<[string, string, string?]>
  ) {
    add("missing fields", method, body, path);
  }

  // Invalid base64.
  const alphabet = "ABCabc012+/=-_.!@ \t";
  for (let i = 0; i < 60; i++) {
    const length = 1 + Math.floor(next() * 10);
    let text = Array.from({ length }, () => pick([...alphabet])).join("");
    if (/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) text += "!";
    add("invalid base64", "POST", JSON.stringify({ Message: { Body: text } }));
    add("invalid base64", "POST", JSON.stringify({ Messages: [{ Body: "" }, { Body: text }] }));
  }

  // Enormous or negative numbers.
  for (const value of [...HUGE, "-1", "-1000000000", "-9223372036854775808"]) {
    add("numbers", "POST", `{"Message":{"Body":"","Delay":${value}}}`);
    if (value !== "-1" && value !== "-1000000000" && value !== "-9223372036854775808") {
      add("numbers", "POST", `{"Message":{"Body":"","Priority":${value}}}`); // negative is fine
    }
    add("numbers", "PUT", `{"Message":{"ID":"m_00","Delay":${value}}}`);
    add("numbers", "PUT", `{"Message":{"ID":"m_00","Delay":1,"Delivery":${value}}}`);
    add("numbers", "DELETE", `{"Message":{"ID":"m_00","Delivery":${value}}}`);
  }

  // Invalid durations and query values.
  const durations = [
    "x",
    "1",
    "1x",
    "s",
    ".s",
    "1..5s",
    "-1s",
    "0",
    "0s",
    "-0s",
    "21s",
    "20s1ns",
    "1h",
    "9999999999h",
    "1e3ms",
    "+-1s",
    " 1s",
    "1 s",
    "%20",
    "1ms%00",
  ];
  for (const timeout of durations) add("durations", "GET", undefined, `/?timeout=${timeout}`);
  for (const interval of durations.filter((d) => d !== "0")) {
    add("durations", "GET", undefined, `/?timeout=100ms&interval=${interval}`);
  }
  add("durations", "GET", undefined, "/?timeout=100ms&interval=101ms");
  add("durations", "GET", undefined, "/?timeout=1s&interval=2s");
  for (const max of ["0", "-1", "x", "1.5", "1e2", "2147483648", "99999999999", " 1"]) {
    add("query values", "GET", undefined, `/?max=${max}`);
    add("query values", "GET", undefined, `/?max=${max}&timeout=10ms`);
    add("query values", "GET", undefined, `/peek?limit=${max}`);
    add("query values", "GET", undefined, `/dead?limit=${max}`);
  }
  for (const cursor of ["x", "a b c", "%20", "2026 ", " m_1"]) {
    add("query values", "GET", undefined, `/dead?cursor=${cursor}`);
  }

  // Unknown methods, and methods a route does not have.
  // Bun's Request constructor turns a method it does not know (FOO) into GET, and Bun.serve never
  // passes one through, so only methods the runtime's Request keeps are tried.
  const methods = ["PATCH", "HEAD", "PROPFIND", "LOCK", "FOO", "MKCOL", "COPY"].filter((method) =>
    new Request("http://queue.test/", { method }).method === method
  );
  for (const method of methods) {
    for (const path of ["/", "/stats", "/dead", "/purge"]) add("methods", method, undefined, path);
  }
  for (
    const [method, path] of [
      ["POST", "/stats"],
      ["PUT", "/peek"],
      ["PUT", "/dead"],
      ["POST", "/dead"],
      ["DELETE", "/dead/count"],
      ["GET", "/dead/redrive"],
      ["GET", "/purge"],
      ["DELETE", "/purge"],
    ] as const
  ) {
    add("methods", method, undefined, path);
  }

  // Oversized bodies: declared, streamed without a length, and a message above maxBodySize.
  const big = `{"Message":{"Body":"${"A".repeat(MAX_REQUEST_SIZE)}"}}`;
  for (let i = 0; i < 20; i++) {
    add("oversized", pick(["POST", "PUT", "DELETE"]), big);
    out.push({
      category: "oversized",
      method: "POST",
      path: "/",
      body: new ReadableStream<Uint8Array>({
        start(controller): void {
          for (let j = 0; j <= MAX_REQUEST_SIZE / 1024; j++) {
            controller.enqueue(new Uint8Array(1024).fill(0x20));
          }
          controller.close();
        },
      }),
    });
    const body = JSON.stringify({
      Message: { Body: zeros(MAX_BODY_SIZE + 1 + Math.floor(next() * 1000)) },
    });
    add("oversized", "POST", body.length <= MAX_REQUEST_SIZE ? body : big);
  }

  // Wrong content types, with bodies that are otherwise valid.
  const types = [
    "application/xml",
    "text/html",
    "multipart/form-data; boundary=abc",
    "image/png",
    "application/octet-stream",
    "application/x-msgpack",
  ];
  for (const type of types) {
    for (const [method, body] of valid) {
      out.push({
        category: "content types",
        method,
        path: "/",
        body,
        headers: { "content-type": type },
      });
    }
  }
  return out;
}

/** Base64 of `n` zero bytes. */
function zeros(n: number): string {
  return "AAAA".repeat(Math.floor(n / 3)) + ["", "AA==", "AAA="][n % 3];
}

/**
 * Methods the handler knows (405 when a route does not take one); any other gets 501, the one
 * 5xx a malformed request may get.
 */
const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/** Whether `status` is a right answer to `item`: a 4xx, or 501 for a method qite does not know. */
export function acceptable(item: Malformed, status: number): boolean {
  if (status === 501) return !KNOWN_METHODS.includes(item.method);
  return status >= 400 && status < 500;
}
