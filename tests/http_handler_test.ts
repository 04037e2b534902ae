import assert from "node:assert/strict";
import { createHandler, type Handler, type HandlerOptions } from "../http/mod.ts";
import { b64, call, unb64 } from "./_http.ts";
import { sleep, text } from "./_helpers.ts";
import { eachEngine, type EngineContext, type EngineQueue } from "./_engines.ts";

function setUp(
  ctx: EngineContext,
  options: HandlerOptions = {},
  timeout = 5000,
): { queue: EngineQueue; handler: Handler } {
  const queue = ctx.queue({ name: "q", timeout });
  return { queue, handler: createHandler(queue, options) };
}

const SEND_YO = { Message: { Body: b64("yo") } };

// GET

eachEngine("GET answers 204 with an empty body when there is no message", async (ctx) => {
  const { handler } = setUp(ctx);
  const answer = await call(handler, "GET");
  assert.equal(answer.status, 204);
  assert.equal(answer.text, "");
});

eachEngine("GET answers a message in goqite's JSON, byte for byte", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const id = await queue.send({ body: "yo", priority: 0 });
  const answer = await call(handler, "GET");
  assert.equal(answer.status, 200);
  assert.equal(answer.text, `{"Message":{"ID":"${id}","Body":"eW8=","Delay":0,"Priority":0}}\n`);
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.equal(answer.headers.get("qite-received"), "1");
  assert.equal(await queue.receive(), undefined, "the message is now in flight");
});

eachEngine("POST then GET round-trips every byte value", async (ctx) => {
  const { handler } = setUp(ctx);
  const bytes = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
  const Body = btoa(String.fromCharCode(...bytes));
  assert.equal((await call(handler, "POST", { body: { Message: { Body } } })).status, 200);
  const answer = await call(handler, "GET");
  const message = answer.json!.Message as Record<string, string>;
  assert.equal(message.Body, Body);
});

eachEngine("GET with a timeout long-polls and answers 204 when nothing arrives", async (ctx) => {
  const { handler } = setUp(ctx);
  const started = Date.now();
  const answer = await call(handler, "GET", { path: "/?timeout=60ms" });
  assert.equal(answer.status, 204);
  assert.ok(Date.now() - started >= 50, "it waited for the timeout");
});

eachEngine("GET with a timeout receives a message sent during the wait", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const waiting = call(handler, "GET", { path: "/?timeout=10s&interval=5s" });
  await sleep(20);
  const id = await queue.send({ body: "late" });
  const answer = await waiting;
  assert.equal(answer.status, 200);
  assert.equal((answer.json!.Message as Record<string, string>).ID, id);
});

for (const timeout of ["notaduration", "0s", "20s1ns", "-1s", "1", "1x", "21s"]) {
  eachEngine(`GET refuses the timeout ${JSON.stringify(timeout)} with 400`, async (ctx) => {
    const { queue, handler } = setUp(ctx);
    await queue.send({ body: "untouched" });
    const answer = await call(handler, "GET", { path: `/?timeout=${timeout}` });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /timeout/);
    assert.equal((await queue.stats()).visible, 1, "no message was received");
  });
}

for (const interval of ["notaduration", "0s", "100ms1ns", "-5ms"]) {
  eachEngine(`GET refuses the interval ${JSON.stringify(interval)} with 400`, async (ctx) => {
    const { handler } = setUp(ctx);
    const answer = await call(handler, "GET", { path: `/?timeout=100ms&interval=${interval}` });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /interval/);
  });
}

eachEngine("GET answers 204 at once, receiving nothing, when the client has gone", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const client = new AbortController();
  const waiting = call(handler, "GET", { path: "/?timeout=20s", signal: client.signal });
  await sleep(10);
  const started = Date.now();
  client.abort();
  assert.equal((await waiting).status, 204);
  assert.ok(Date.now() - started < 1000, "the long poll ended at once");
  await queue.send({ body: "for someone else" });
  assert.equal((await queue.receive())?.received, 1, "the message was not hidden");
});

eachEngine("GET hands a message back uncounted when the client is gone", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  await queue.send({ body: "keep me" });
  const gone = AbortSignal.abort();
  const answer = await handler(new Request("http://queue.test/", { signal: gone }));
  assert.equal(answer.status, 204);
  const message = await queue.receive();
  assert.equal(message?.received, 1, "the receive for the absent client was not counted");
});

eachEngine("GET with max receives a batch, each message with its receive count", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const ids = await queue.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
  const answer = await call(handler, "GET", { path: "/?max=2" });
  assert.equal(answer.status, 200);
  const messages = answer.json!.Messages as Array<Record<string, unknown>>;
  assert.deepEqual(messages.map((m) => m.ID), ids.slice(0, 2));
  assert.deepEqual(messages.map((m) => m.Received), [1, 1]);
  assert.equal(unb64(messages[1]!.Body as string), "b");
  const rest = (await call(handler, "GET", { path: "/?max=5" })).json!.Messages as unknown[];
  assert.equal(rest.length, 1);
  assert.equal((await call(handler, "GET", { path: "/?max=5" })).status, 204);
});

for (const max of ["0", "-1", "abc", "1.5", "99999999999"]) {
  eachEngine(`GET refuses max=${max} with 400`, async (ctx) => {
    const { handler } = setUp(ctx);
    assert.equal((await call(handler, "GET", { path: `/?max=${max}` })).status, 400);
  });
}

eachEngine("GET with max above maxBatchSize receives a full batch (up to max)", async (ctx) => {
  const { queue } = setUp(ctx);
  const handler = createHandler(queue, { maxBatchSize: 2 });
  await queue.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
  const answer = await call(handler, "GET", { path: "/?max=1001" });
  assert.equal(answer.status, 200);
  assert.equal((answer.json!.Messages as unknown[]).length, 2);
});

// POST

eachEngine("POST sends a message and answers 200 with an empty body and its id", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const answer = await call(handler, "POST", { body: SEND_YO });
  assert.equal(answer.status, 200);
  assert.equal(answer.text, "");
  const message = await queue.receive();
  assert.equal(message?.id, answer.headers.get("qite-message-id"));
  assert.equal(text(message!.body), "yo");
});

eachEngine("POST reads keys without regard to case, as Go does", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const body = { message: { body: b64("lower"), PRIORITY: 3 } };
  assert.equal((await call(handler, "POST", { body })).status, 200);
  const message = await queue.receive();
  assert.equal(text(message!.body), "lower");
  assert.equal(message!.priority, 3);
});

eachEngine("POST takes the delay in nanoseconds", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const body = { Message: { Body: b64("later"), Delay: 1_000_000_000 } };
  assert.equal((await call(handler, "POST", { body })).status, 200);
  ctx.clock.advance(999);
  assert.equal(await queue.receive(), undefined);
  ctx.clock.advance(1);
  assert.equal(text((await queue.receive())!.body), "later");
});

eachEngine("POST with a priority sends a message that is received first", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  await call(handler, "POST", { body: { Message: { Body: b64("low") } } });
  await call(handler, "POST", { body: { Message: { Body: b64("high"), Priority: 9 } } });
  const answer = await call(handler, "GET");
  assert.equal(unb64((answer.json!.Message as Record<string, string>).Body!), "high");
  assert.equal((answer.json!.Message as Record<string, number>).Priority, 9);
  assert.equal((await queue.stats()).visible, 1);
});

eachEngine("POST refuses a null or missing Body with 400, where goqite fails with 500", async (
  ctx,
) => {
  const { queue, handler } = setUp(ctx);
  for (const body of [{ Message: { Body: null } }, { Message: {} }, {}, null]) {
    const answer = await call(handler, "POST", { body });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /^Body is missing or null/);
  }
  assert.equal((await queue.stats()).total, 0);
  assert.equal((await call(handler, "POST", { body: { Message: { Body: "" } } })).status, 200);
  assert.equal((await queue.receive())?.body.length, 0);
});

eachEngine("POST refuses a negative delay with goqite's message", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const answer = await call(handler, "POST", { body: { Message: { Body: "", Delay: -1 } } });
  assert.equal(answer.status, 400);
  assert.equal(answer.text, "delay cannot be negative\n");
  assert.equal((await queue.stats()).total, 0);
});

const BAD_POSTS: ReadonlyArray<[string, string]> = [
  ["undecodable JSON", "{"],
  ["an empty body", ""],
  ["no Message", "{}"],
  ["a null Message", '{"Message":null}'],
  ["no Body key", '{"Message":{"Delay":0}}'],
  ["an array", "[]"],
  ["a string", '"hello"'],
  ["a number Body", '{"Message":{"Body":5}}'],
  ["Body that is not base64", '{"Message":{"Body":"abc"}}'],
  ["Body with bad base64 characters", '{"Message":{"Body":"ab$="}}'],
  ["a string Delay", '{"Message":{"Body":"","Delay":"1s"}}'],
  ["a fractional Delay", '{"Message":{"Body":"","Delay":1.5}}'],
  ["an exponent Priority", '{"Message":{"Body":"","Priority":1e3}}'],
  ["a Delay above 64 bits", '{"Message":{"Body":"","Delay":9223372036854775808}}'],
  ["a Priority above 64 bits", '{"Message":{"Body":"","Priority":9223372036854775808}}'],
  ["a null Body", '{"Message":{"Body":null}}'],
  ["a boolean Priority", '{"Message":{"Body":"","Priority":true}}'],
  ["both Message and Messages", '{"Message":{"Body":""},"Messages":[]}'],
  ["a false Message", '{"Message":false}'],
  ["a false Message beside a Message", '{"Message":false,"Messages":[],"Message":{"Body":""}}'],
  ["a null entry in Messages", '{"Messages":[null]}'],
  ["deep nesting", `{"x":${"[".repeat(100)}${"]".repeat(100)}}`],
];

for (const [what, body] of BAD_POSTS) {
  eachEngine(`POST refuses ${what} with 400 and sends nothing`, async (ctx) => {
    const { queue, handler } = setUp(ctx);
    const answer = await call(handler, "POST", { body });
    assert.equal(answer.status, 400, answer.text);
    assert.ok(answer.text.endsWith("\n") && answer.text.length > 1, "it says what is wrong");
    assert.equal((await queue.stats()).total, 0);
  });
}

eachEngine("POST refuses a body above maxBodySize with 413", async (ctx) => {
  const { queue, handler } = setUp(ctx, { maxBodySize: 10 });
  const ok = await call(handler, "POST", { body: { Message: { Body: b64("0123456789") } } });
  assert.equal(ok.status, 200);
  const answer = await call(handler, "POST", { body: { Message: { Body: b64("01234567890") } } });
  assert.equal(answer.status, 413);
  assert.equal((await queue.stats()).total, 1);
});

eachEngine("POST refuses a request above maxRequestSize with 413 before reading it", async (
  ctx,
) => {
  const { queue, handler } = setUp(ctx, { maxRequestSize: 100 });
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller): void {
      pulled++;
      if (pulled > 1000) controller.close();
      else controller.enqueue(new Uint8Array(64).fill(32));
    },
  });
  const response = await handler(
    new Request(
      "http://queue.test/",
      { method: "POST", body: stream, duplex: "half" } as
        & RequestInit
        & { duplex: string },
    ),
  );
  assert.equal(response.status, 413);
  assert.ok(pulled < 10, `it stopped reading early (read ${pulled} chunks)`);
  const declared = await call(handler, "POST", {
    body: JSON.stringify({ Message: { Body: b64("x".repeat(200)) } }),
  });
  assert.equal(declared.status, 413);
  assert.equal((await queue.stats()).total, 0);
});

eachEngine(
  "POST refuses with 413 a body above maxRequestSize whose Content-Length claims less",
  async (
    ctx,
  ) => {
    const { queue, handler } = setUp(ctx, { maxRequestSize: 100 });
    const body = JSON.stringify({ Message: { Body: b64("x".repeat(200)) } });
    const answer = await call(handler, "POST", { body, headers: { "content-length": "50" } });
    assert.equal(answer.status, 413, answer.text);
    const small = JSON.stringify({ Message: { Body: b64("x") } });
    const ok = await call(handler, "POST", {
      body: small,
      headers: { "content-length": String(small.length) },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await queue.stats()).total, 1);
  },
);

for (const type of ["application/xml", "multipart/form-data; boundary=x", "image/png"]) {
  eachEngine(`POST refuses the content type ${type} with 415`, async (ctx) => {
    const { queue, handler } = setUp(ctx);
    const answer = await call(handler, "POST", {
      body: SEND_YO,
      headers: { "content-type": type },
    });
    assert.equal(answer.status, 415);
    assert.equal((await queue.stats()).total, 0);
  });
}

for (const type of ["application/json", "application/json; charset=utf-8", "text/plain"]) {
  eachEngine(`POST reads a ${type} body as JSON`, async (ctx) => {
    const { queue, handler } = setUp(ctx);
    const answer = await call(handler, "POST", {
      body: SEND_YO,
      headers: { "content-type": type },
    });
    assert.equal(answer.status, 200);
    assert.equal((await queue.stats()).total, 1);
  });
}

eachEngine("POST with Messages sends a batch and answers the ids in order", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const body = { Messages: [{ Body: b64("a") }, { Body: b64("b"), Priority: 1 }] };
  const answer = await call(handler, "POST", { body });
  assert.equal(answer.status, 200);
  const ids = answer.json!.IDs as string[];
  assert.equal(ids.length, 2);
  assert.equal((await queue.receive())?.id, ids[1]);
  assert.equal((await queue.receive())?.id, ids[0]);
});

eachEngine(
  'POST, PUT and DELETE with Messages, and a redrive with IDs, take "Message": false beside ' +
    "them (the client's mark that makes goqite's handler refuse them)",
  async (ctx) => {
    const { queue, handler } = setUp(ctx);
    const sent = await call(handler, "POST", {
      body: { Message: false, Messages: [{ Body: b64("a") }, { Body: b64("b") }] },
    });
    assert.equal(sent.status, 200, sent.text);
    const [a, b] = sent.json!.IDs as string[];
    const extended = await call(handler, "PUT", {
      body: { Message: false, Messages: [{ ID: a, Delay: 1_000_000 }] },
    });
    assert.equal(extended.status, 200, extended.text);
    assert.deepEqual(extended.json!.Results, [true]);
    const deleted = await call(handler, "DELETE", {
      body: { Message: false, Messages: [{ ID: b }] },
    });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.json!.Results, [true]);
    const redriven = await call(handler, "POST", {
      path: "/dead/redrive",
      body: { Message: false, IDs: [a!] },
    });
    assert.equal(redriven.status, 200, redriven.text);
    assert.equal((await queue.stats()).total, 1);
  },
);

eachEngine('PUT and DELETE refuse "Message": false alone with 400, as goqite does', async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const id = await queue.send({ body: "x" });
  for (const method of ["PUT", "DELETE"] as const) {
    const answer = await call(handler, method, { body: { Message: false } });
    assert.equal(answer.status, 400, answer.text);
  }
  assert.equal((await queue.peek()).map((m) => m.id).join(), id);
});

eachEngine("POST with a bad entry in Messages sends none of them and names the entry", async (
  ctx,
) => {
  const { queue, handler } = setUp(ctx);
  const body = { Messages: [{ Body: b64("a") }, { Body: b64("b"), Delay: -5 }] };
  const answer = await call(handler, "POST", { body });
  assert.equal(answer.status, 400);
  assert.match(answer.text, /Messages\[1\]/);
  assert.equal((await queue.stats()).total, 0);
});

eachEngine("POST refuses a batch above maxBatchSize with 400", async (ctx) => {
  const { queue, handler } = setUp(ctx, { maxBatchSize: 2 });
  const body = { Messages: [{ Body: "" }, { Body: "" }, { Body: "" }] };
  assert.equal((await call(handler, "POST", { body })).status, 400);
  assert.equal((await queue.stats()).total, 0);
});

// PUT

eachEngine("PUT extends a message's timeout by a delay in nanoseconds", async (ctx) => {
  const { queue, handler } = setUp(ctx, {}, 1000);
  await queue.send({ body: "yo" });
  const received = (await call(handler, "GET")).json!.Message as Record<string, string>;
  const answer = await call(handler, "PUT", {
    body: { Message: { ID: received.ID, Delay: 5_000_000_000 } },
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.text, "");
  assert.equal(answer.headers.get("qite-applied"), "true");
  ctx.clock.advance(4999);
  assert.equal((await call(handler, "GET")).status, 204);
  ctx.clock.advance(1);
  assert.equal((await call(handler, "GET")).status, 200);
});

const BAD_PUTS: ReadonlyArray<[string, unknown, string | RegExp]> = [
  ["a zero delay", { Message: { ID: "m_1", Delay: 0 } }, "delay must larger than zero\n"],
  ["a negative delay", { Message: { ID: "m_1", Delay: -1 } }, "delay must larger than zero\n"],
  ["no delay", { Message: { ID: "m_1" } }, "delay must larger than zero\n"],
  ["an empty ID", { Message: { ID: "", Delay: 1 } }, "ID cannot be empty\n"],
  ["no ID", { Message: { Delay: 1 } }, "ID cannot be empty\n"],
  ["undecodable JSON", "{", /^error decoding request/],
  ["a number ID", { Message: { ID: 5, Delay: 1 } }, /ID/],
  ["an empty Delivery", { Message: { ID: "m_1", Delay: 1, Delivery: "" } }, /Delivery/],
  ["a number Delivery", { Message: { ID: "m_1", Delay: 1, Delivery: 1 } }, /Delivery/],
];

for (const [what, body, message] of BAD_PUTS) {
  eachEngine(`PUT refuses ${what} with 400`, async (ctx) => {
    const { handler } = setUp(ctx);
    const answer = await call(handler, "PUT", { body });
    assert.equal(answer.status, 400);
    if (typeof message === "string") assert.equal(answer.text, message);
    else assert.match(answer.text, message);
  });
}

eachEngine("PUT and DELETE of an unknown id answer 200 as goqite does, with Qite-Applied", async (
  ctx,
) => {
  const { handler } = setUp(ctx);
  const put = await call(handler, "PUT", { body: { Message: { ID: "m_nope", Delay: 1 } } });
  assert.equal(put.status, 200);
  assert.equal(put.headers.get("qite-applied"), "false");
  const del = await call(handler, "DELETE", { body: { Message: { ID: "m_nope" } } });
  assert.equal(del.status, 200);
  assert.equal(del.headers.get("qite-applied"), "false");
});

eachEngine("PUT and DELETE with Delivery refuse a stale delivery with 409", async (ctx) => {
  const { queue, handler } = setUp(ctx, {}, 1000);
  const id = await queue.send({ body: "contended" });
  const a = await call(handler, "GET"); // consumer A
  assert.equal(a.headers.get("qite-received"), "1");
  ctx.clock.advance(1000);
  const b = await call(handler, "GET"); // consumer B
  assert.equal(b.headers.get("qite-received"), "2");
  const stale = a.headers.get("qite-delivery");
  const current = b.headers.get("qite-delivery");
  assert.ok(stale && current && stale !== current);
  const staleExtend = { Message: { ID: id, Delay: 60_000_000_000, Delivery: stale } };
  assert.equal((await call(handler, "PUT", { body: staleExtend })).status, 409);
  const staleDelete = { Message: { ID: id, Delivery: stale } };
  assert.equal((await call(handler, "DELETE", { body: staleDelete })).status, 409);
  assert.equal((await queue.stats()).inFlight, 1, "B still holds the message");
  const fresh = { Message: { ID: id, Delay: 60_000_000_000, Delivery: current } };
  assert.equal((await call(handler, "PUT", { body: fresh })).status, 200);
  const del = await call(handler, "DELETE", { body: { Message: { ID: id, Delivery: current } } });
  assert.equal(del.status, 200);
  assert.equal((await queue.stats()).total, 0);
});

eachEngine("PUT with Messages extends a batch, answering a result per entry", async (ctx) => {
  const { queue, handler } = setUp(ctx, {}, 1000);
  await queue.sendBatch([{ body: "a" }, { body: "b" }]);
  const [a, b] = await queue.receiveBatch(2);
  const body = {
    Messages: [
      { ID: a!.id, Delay: 10_000_000_000, Delivery: a!.delivery },
      { ID: b!.id, Delay: 10_000_000_000, Delivery: "7/2026-11-24T12:00:00.000Z" },
      { ID: "m_unknown", Delay: 1 },
    ],
  };
  const answer = await call(handler, "PUT", { body });
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { Results: [true, false, false] });
  ctx.clock.advance(1000);
  assert.equal((await queue.receive())?.id, b!.id, "only b's lease ran out");
});

// DELETE

eachEngine("DELETE deletes a message", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  await queue.send({ body: "yo" });
  const received = (await call(handler, "GET")).json!.Message as Record<string, string>;
  const answer = await call(handler, "DELETE", { body: { Message: received } });
  assert.equal(answer.status, 200);
  assert.equal(answer.text, "");
  assert.equal((await queue.stats()).total, 0);
});

for (const [what, body] of [["undecodable JSON", "{"], ["an empty ID", { Message: {} }]]) {
  eachEngine(`DELETE refuses ${what} with 400`, async (ctx) => {
    const { queue, handler } = setUp(ctx);
    await queue.send({ body: "stays" });
    const answer = await call(handler, "DELETE", { body });
    assert.equal(answer.status, 400);
    assert.equal((await queue.stats()).total, 1);
  });
}

eachEngine("DELETE with Messages deletes a batch, answering a result per entry", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const [a, b] = await queue.sendBatch([{ body: "a" }, { body: "b" }]);
  const body = { Messages: [{ ID: a }, { ID: "m_unknown" }, { ID: b }] };
  assert.deepEqual((await call(handler, "DELETE", { body })).json, {
    Results: [true, false, true],
  });
  assert.equal((await queue.stats()).total, 0);
});

// Methods, authorization, failures

for (const method of ["PATCH", "HEAD"]) {
  eachEngine(`${method} gets 405 with an Allow header and touches nothing`, async (ctx) => {
    const { queue, handler } = setUp(ctx);
    await queue.send({ body: "stays" });
    const answer = await call(handler, method);
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.get("allow"), "GET, POST, PUT, DELETE");
    assert.equal((await queue.stats()).visible, 1);
  });
}

/** Whether this runtime's `Request` keeps `method` as it is (Bun turns unknown ones into GET). */
function keeps(method: string): boolean {
  try {
    return new Request("http://queue.test/", { method }).method === method;
  } catch {
    return false; // a forbidden method, such as TRACE on Deno and Node
  }
}

for (const method of ["PROPFIND", "TRACE", "FOO", "patch"].filter(keeps)) {
  eachEngine(`${method} gets 501 before authorize runs, and touches nothing`, async (ctx) => {
    let asked = 0;
    const { queue, handler } = setUp(ctx, {
      authorize: () => {
        asked++;
        return true;
      },
    });
    await queue.send({ body: "stays" });
    const answer = await call(handler, method);
    assert.equal(answer.status, 501);
    assert.equal(answer.text, `method ${method} is not implemented\n`);
    assert.equal(answer.headers.get("allow"), null);
    assert.equal(asked, 0);
    assert.equal((await queue.stats()).visible, 1);
  });
}

eachEngine("OPTIONS answers 204 with the allowed methods", async (ctx) => {
  const { handler } = setUp(ctx);
  const answer = await call(handler, "OPTIONS", { path: "/q/dead" });
  assert.equal(answer.status, 204);
  assert.equal(answer.headers.get("allow"), "GET, DELETE");
});

eachEngine("authorize() can refuse with 403 or its own 401 before the queue is touched", async (
  ctx,
) => {
  const seen: string[] = [];
  const { queue, handler } = setUp(ctx, {
    authorize: (request) => {
      seen.push(request.method);
      const auth = request.headers.get("authorization");
      if (auth === null) {
        return new Response("who are you?\n", {
          status: 401,
          headers: { "www-authenticate": "Bearer" },
        });
      }
      return auth === "Bearer good";
    },
  });
  await queue.send({ body: "guarded" });
  const anonymous = await call(handler, "GET");
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), "Bearer");
  const wrong = await call(handler, "DELETE", {
    body: { Messages: [] },
    headers: { authorization: "Bearer bad" },
  });
  assert.equal(wrong.status, 403);
  assert.equal((await queue.stats()).visible, 1, "nothing was received or deleted");
  const good = await call(handler, "GET", { headers: { authorization: "Bearer good" } });
  assert.equal(good.status, 200);
  assert.deepEqual(seen, ["GET", "DELETE", "GET"]);
});

eachEngine("A failing authorize() gives a 500 without detail, and the cause is logged", async (
  ctx,
) => {
  const logged: Array<Record<string, unknown> | undefined> = [];
  const { handler } = setUp(ctx, {
    authorize: () => {
      throw new Error("token store down");
    },
    logger: { info: (_message, fields) => logged.push(fields) },
  });
  const answer = await call(handler, "GET");
  assert.equal(answer.status, 500);
  assert.equal(answer.text, "internal server error\n");
  assert.match(String(logged[0]?.error), /token store down/);
});

for (const Thrown of [TypeError, RangeError]) {
  eachEngine(
    `A ${Thrown.name} from authorize() is a 500 without its message, not a 400, and is logged`,
    async (ctx) => {
      const logged: Array<Record<string, unknown> | undefined> = [];
      const { handler } = setUp(ctx, {
        authorize: () => {
          throw new Thrown("cannot read the token table s3cret");
        },
        logger: { info: (_message, fields) => logged.push(fields) },
      });
      for (const [method, path] of [["GET", "/"], ["POST", "/"], ["GET", "/q/stats"]]) {
        const answer = await call(handler, method!, { path: path! });
        assert.equal(answer.status, 500, `${method} ${path}`);
        assert.equal(answer.text, "internal server error\n");
      }
      assert.equal(logged.length, 3);
      assert.match(String(logged[0]?.error), new RegExp(`^${Thrown.name}: cannot read`));
    },
  );
}

eachEngine("A logger that throws does not change a 500 into anything else", async (ctx) => {
  const { handler } = setUp(ctx, {
    authorize: () => {
      throw new Error("down");
    },
    logger: {
      info: () => {
        throw new TypeError("the log sink is gone");
      },
    },
  });
  const answer = await call(handler, "GET");
  assert.equal(answer.status, 500);
  assert.equal(answer.text, "internal server error\n");
});

eachEngine("qite's own checks of the request still answer 400 and 413 with their message", async (
  ctx,
) => {
  const queue = ctx.queue({ name: "small", maxBodySize: 4 });
  const handler = createHandler(queue);
  const cursor = await call(handler, "GET", { path: "/q/dead?cursor=x" });
  assert.equal(cursor.status, 400);
  assert.match(
    cursor.text,
    /^cursor must be a Cursor from a previous page: current value is "x"\n$/,
  );
  // The queue's maxBodySize (4) is below the handler's (1 MiB): the smaller one answers 413.
  const big = await call(handler, "POST", { body: { Message: { Body: b64("12345") } } });
  assert.equal(big.status, 413);
  assert.match(big.text, /^Body must be at most 4 bytes: current size is 5\n$/);
  const batch = await call(handler, "POST", {
    body: { Messages: [{ Body: b64("1234") }, { Body: b64("12345") }] },
  });
  assert.equal(batch.status, 413);
  assert.equal((await queue.stats()).total, 0);
});

eachEngine("A queue failure gives a 5xx without internal detail, and the cause is logged", async (
  ctx,
) => {
  const logged: Array<Record<string, unknown> | undefined> = [];
  const { handler } = setUp(ctx, { logger: { info: (_m, fields) => logged.push(fields) } });
  await ctx.sql("drop table goqite");
  const answer = await call(handler, "POST", { body: SEND_YO });
  assert.equal(answer.status, 500);
  assert.equal(answer.text, "internal server error\n");
  assert.doesNotMatch(answer.text, /goqite|table|sqlite/i);
  assert.equal(logged[0]?.code, "NOT_SET_UP");
  assert.match(String(logged[0]?.error), /goqite/);
});

eachEngine("A closed queue answers 503 with Retry-After", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  queue.close();
  const answer = await call(handler, "GET");
  assert.equal(answer.status, 503);
  assert.equal(answer.headers.get("retry-after"), "1");
  assert.doesNotMatch(answer.text, /closed/);
});

eachEngine("The handler's signal ends long polls at once with 204", async (ctx) => {
  const shutdown = new AbortController();
  const { queue, handler } = setUp(ctx, { signal: shutdown.signal });
  const waiting = call(handler, "GET", { path: "/?timeout=20s" });
  await sleep(10);
  const started = Date.now();
  shutdown.abort();
  assert.equal((await waiting).status, 204);
  assert.ok(Date.now() - started < 1000);
  assert.equal((await queue.stats()).total, 0);
});

// Extensions

eachEngine("GET stats answers the queue's counts, with ages in nanoseconds", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  await queue.sendBatch([{ body: "a" }, { body: "b", delay: 60_000 }]);
  ctx.clock.advance(3);
  const answer = await call(handler, "GET", { path: "/emails/stats" });
  assert.deepEqual(answer.json, {
    Total: 2,
    Visible: 1,
    InFlight: 0,
    Delayed: 1,
    Dead: 0,
    OldestVisibleAge: 3_000_000,
  });
});

eachEngine("GET peek shows visible messages without receiving them", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  const [id] = await queue.sendBatch([{ body: "a" }, { body: "b" }]);
  const answer = await call(handler, "GET", { path: "/peek?limit=1" });
  const messages = answer.json!.Messages as Array<Record<string, unknown>>;
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.ID, id);
  assert.equal(messages[0]!.Received, 0);
  assert.equal(messages[0]!.Created, new Date(ctx.clock.now).toISOString());
  assert.equal((await queue.stats()).visible, 2);
});

eachEngine("The dead routes list, count, redrive and purge dead messages", async (ctx) => {
  const queue = ctx.queue({ name: "q", maxReceive: 1, timeout: 10 });
  const handler = createHandler(queue);
  const ids = await queue.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
  await queue.receiveBatch(3);
  ctx.clock.advance(10);
  assert.deepEqual((await call(handler, "GET", { path: "/dead/count" })).json, { Count: 3 });
  const first = await call(handler, "GET", { path: "/dead?limit=2" });
  const page = first.json as { Messages: Array<{ ID: string }>; Cursor: string };
  assert.equal(page.Messages.length, 2);
  const cursor = encodeURIComponent(page.Cursor);
  const second = await call(handler, "GET", { path: `/dead?limit=2&cursor=${cursor}` });
  const rest = second.json as { Messages: Array<{ ID: string }>; Cursor: null };
  assert.equal(rest.Cursor, null);
  const listed = [...page.Messages, ...rest.Messages].map((m) => m.ID);
  assert.deepEqual(listed.toSorted(), ids.toSorted(), "the pages hold every dead message once");
  assert.equal((await call(handler, "GET", { path: "/dead?cursor=nonsense" })).status, 400);
  const one = await call(handler, "POST", { path: "/dead/redrive", body: { IDs: [listed[0]] } });
  assert.deepEqual(one.json, { Count: 1 });
  assert.deepEqual((await call(handler, "DELETE", { path: "/dead" })).json, { Count: 2 });
  assert.equal((await queue.receive())?.id, listed[0]);
  const all = await call(handler, "POST", { path: "/dead/redrive" });
  assert.deepEqual(all.json, { Count: 0 });
});

eachEngine("POST purge deletes every message of the queue", async (ctx) => {
  const { queue, handler } = setUp(ctx);
  await queue.sendBatch([{ body: "a" }, { body: "b", delay: 1000 }]);
  assert.deepEqual((await call(handler, "POST", { path: "/purge" })).json, { Count: 2 });
  assert.equal((await queue.stats()).total, 0);
});

eachEngine("Routes below the handler allow only their own methods", async (ctx) => {
  const { handler } = setUp(ctx);
  const answer = await call(handler, "POST", { path: "/stats" });
  assert.equal(answer.status, 405);
  assert.equal(answer.headers.get("allow"), "GET");
});
