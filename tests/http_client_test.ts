import assert from "node:assert/strict";
import { test } from "node:test";
import { QueueError } from "../mod.ts";
import {
  createClient,
  createHandler,
  type HandlerOptions,
  HttpError,
  type QueueClient,
} from "../http/mod.ts";
import { createJob, Runner } from "../jobs/mod.ts";
import { listen } from "../src/runtime/serve.ts";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { sleep, text } from "./_helpers.ts";
import { eachEngine, type EngineContext, type EngineQueue } from "./_engines.ts";

/** A client talking to a handler directly, with `fetch` replaced by the handler. */
function setUp(
  ctx: EngineContext,
  options: HandlerOptions = {},
  timeout = 1000,
): { queue: EngineQueue; client: QueueClient } {
  const queue = ctx.queue({ name: "q", timeout });
  const handler = createHandler(queue, options);
  const client = createClient("http://queue.test/queues/q", { fetch: handler });
  return { queue, client };
}

eachEngine("The client sends, receives and deletes like a local queue", async (ctx) => {
  const { queue, client } = setUp(ctx);
  const body = new Uint8Array([0, 255, 1, 254]);
  const id = await client.send({ body, priority: 2 });
  assert.match(id ?? "", /^m_[0-9a-f]{32}$/);
  const message = await client.receive();
  assert.ok(message);
  assert.deepEqual(
    { ...message, body: [...message.body], delivery: typeof message.delivery },
    { id, body: [...body], received: 1, priority: 2, delivery: "string" },
  );
  assert.equal(await client.receive(), undefined);
  assert.equal(await client.delete(message), true);
  assert.equal((await queue.stats()).total, 0);
});

eachEngine("The client's delays are milliseconds, as the queue's are", async (ctx) => {
  const { client } = setUp(ctx);
  await client.send({ body: "later", delay: 1500 });
  ctx.clock.advance(1499);
  assert.equal(await client.receive(), undefined);
  ctx.clock.advance(1);
  const message = await client.receive();
  assert.equal(text(message!.body), "later");
  assert.equal(await client.extend(message!, 2000), true);
  ctx.clock.advance(1999);
  assert.equal(await client.receive(), undefined);
  ctx.clock.advance(1);
  assert.equal((await client.receive())?.received, 2);
});

eachEngine("The client's fenced extend and delete return false for a stale delivery", async (
  ctx,
) => {
  const { client } = setUp(ctx);
  await client.send({ body: "contended" });
  const a = (await client.receive())!;
  ctx.clock.advance(1000);
  const b = (await client.receive())!;
  assert.equal(await client.extend(a, 5000), false);
  assert.equal(await client.delete(a), false);
  assert.equal(await client.extend(b, 5000), true);
  assert.equal(await client.delete(b), true);
  assert.equal(await client.delete(b.id), false, "a bare id that is gone reports false");
});

eachEngine("The client's batch operations answer per entry", async (ctx) => {
  const { client } = setUp(ctx);
  assert.deepEqual(await client.sendBatch([]), []);
  const ids = await client.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
  const messages = await client.receiveBatch(2);
  assert.deepEqual(messages.map((m) => m.id), ids.slice(0, 2));
  assert.deepEqual(messages.map((m) => m.received), [1, 1]);
  assert.deepEqual(await client.extendBatch([messages[0]!, "m_unknown"], 5000), [true, false]);
  assert.deepEqual(await client.deleteBatch([...messages, ids[2]!]), [true, true, true]);
  assert.deepEqual(await client.receiveBatch(5), []);
});

eachEngine("The client's receiveAndWait gets a message sent while it waits", async (ctx) => {
  const { queue, client } = setUp(ctx);
  const waiting = client.receiveAndWait({ signal: AbortSignal.timeout(10_000) });
  await sleep(20);
  await queue.send({ body: "hello" });
  assert.equal(text((await waiting).body), "hello");
  const batch = client.receiveBatchAndWait(10, { signal: AbortSignal.timeout(10_000) });
  await sleep(20);
  await queue.sendBatch([{ body: "x" }, { body: "y" }]);
  assert.equal((await batch).length, 2);
});

eachEngine("The client's receiveAndWait rejects with the signal's reason and hides nothing", async (
  ctx,
) => {
  const { queue, client } = setUp(ctx);
  const controller = new AbortController();
  const waiting = client.receiveAndWait({ signal: controller.signal });
  await sleep(20);
  controller.abort(new Error("stop waiting"));
  await assert.rejects(waiting, /stop waiting/);
  await queue.send({ body: "for the next one" });
  assert.equal((await queue.receive())?.received, 1);
});

eachEngine("The client reads stats, peeks, and manages dead messages", async (ctx) => {
  const queue = ctx.queue({ name: "q", maxReceive: 1, timeout: 10 });
  const client = createClient("http://queue.test/", { fetch: createHandler(queue) });
  await client.sendBatch([{ body: "a" }, { body: "b" }, { body: "c", delay: 60_000 }]);
  ctx.clock.advance(5);
  assert.deepEqual(await client.stats(), {
    total: 3,
    visible: 2,
    inFlight: 0,
    delayed: 1,
    dead: 0,
    oldestVisibleAge: 5,
  });
  const peeked = await client.peek({ limit: 5 });
  assert.equal(peeked.length, 2);
  assert.ok(peeked[0]!.created instanceof Date);
  await client.receiveBatch(2);
  ctx.clock.advance(10);
  assert.equal(await client.countDead(), 2);
  const page = await client.listDead({ limit: 1 });
  assert.equal(page.messages.length, 1);
  const next = await client.listDead({ limit: 1, cursor: page.cursor });
  assert.notEqual(next.messages[0]!.id, page.messages[0]!.id);
  assert.equal(await client.redrive(page.messages[0]!.id), 1);
  assert.equal(await client.purgeDead(), 1);
  assert.equal(await client.redrive(), 0);
  assert.equal(await client.purge(), 2);
});

eachEngine("The client surfaces the server's error answers with their status and message", async (
  ctx,
) => {
  const { client } = setUp(ctx, {
    authorize: (request) => request.headers.get("authorization") === "Bearer ok",
  });
  await assert.rejects(client.receive(), (error) => {
    assert.ok(error instanceof HttpError);
    assert.ok(error instanceof QueueError);
    assert.equal(error.code, "HTTP");
    assert.equal(error.status, 403);
    assert.match(error.message, /403: forbidden/);
    return true;
  });
  const allowed = createClient("http://queue.test/", {
    fetch: createHandler(ctx.queue({ name: "q" }), { maxBodySize: 3 }),
    headers: { authorization: "Bearer ok" },
  });
  await assert.rejects(allowed.send({ body: "four" }), { name: "HttpError", status: 413 });
});

test("The client reports an unreachable server as a NETWORK error", async () => {
  const client = createClient("http://queue.test/", {
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });
  await assert.rejects(client.send({ body: "x" }), (error) => {
    assert.ok(error instanceof QueueError);
    assert.equal(error.code, "NETWORK");
    assert.match(String((error.cause as Error).message), /connection refused/);
    return true;
  });
});

eachEngine("The client refuses misuse before sending anything", async (ctx) => {
  let requests = 0;
  const handler = createHandler(ctx.queue({ name: "q" }));
  const client = createClient("http://queue.test/", {
    fetch: (request) => {
      requests++;
      return handler(request);
    },
  });
  await assert.rejects(client.send({ body: 5 as unknown as string }), TypeError);
  await assert.rejects(client.send({ body: "x", delay: -1 }), RangeError);
  await assert.rejects(client.receiveBatch(0), RangeError);
  await assert.rejects(client.extend("", 10), TypeError);
  await assert.rejects(client.delete({ id: "m_1" } as never), TypeError);
  assert.throws(() => createClient("ftp://x/"), TypeError);
  assert.throws(() => createClient("not a url"), TypeError);
  assert.throws(() => createClient("http://x/", { maxWait: 30_000 }), RangeError);
  assert.equal(requests, 0);
});

/** Serves `answer` over TCP with the runtime's own server, counting requests. */
async function countingServer(
  answer: () => Promise<Response>,
): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const listener = await listen({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => {
      requests++;
      return answer();
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}/queues/q`,
    count: () => requests,
    close: () => listener.close(),
  };
}

test("receiveAndWait backs off, jittered, from a server that answers 204 at once", async () => {
  const server = await countingServer(() => Promise.resolve(new Response(null, { status: 204 })));
  try {
    const client = createClient(server.url);
    const started = Date.now();
    await assert.rejects(
      client.receiveAndWait({ signal: AbortSignal.timeout(1000) }),
      (error: Error) => error.name === "TimeoutError",
    );
    assert.ok(Date.now() - started < 1500, "the pause ends when the signal aborts");
    // Pauses of 25-50, 50-100, 100-200, 200-400, 400-800 ms: at most 6 polls in a second,
    // where retrying at once would send thousands.
    assert.ok(server.count() >= 3, `it kept polling: ${server.count()} requests`);
    assert.ok(server.count() <= 8, `${server.count()} requests in one second`);
  } finally {
    await server.close();
  }
});

test("receiveAndWait polls again at once after a long poll that lasted as long as asked", async () => {
  const server = await countingServer(async () => {
    await sleep(100);
    return new Response(null, { status: 204 });
  });
  try {
    const client = createClient(server.url, { maxWait: 100 });
    await assert.rejects(
      client.receiveAndWait({ signal: AbortSignal.timeout(1000) }),
      (error: Error) => error.name === "TimeoutError",
    );
    // Ten 100 ms polls fit in a second; a backoff would allow about five.
    assert.ok(server.count() >= 7, `${server.count()} polls of 100 ms in one second`);
  } finally {
    await server.close();
  }
});

eachEngine("The client reads the start of bodies with bodyBytes, and their whole size", async (
  ctx,
) => {
  const queue = ctx.queue({ name: "q", maxReceive: 1, timeout: 10 });
  const client = createClient("http://queue.test/", { fetch: createHandler(queue) });
  await client.send({ body: "x".repeat(1000) });
  const [peeked] = await client.peek({ bodyBytes: 4 });
  assert.deepEqual([text(peeked!.body), peeked!.size], ["xxxx", 1000]);
  assert.equal((await client.peek())[0]!.size, 1000);
  await client.receive();
  ctx.clock.advance(10);
  const [dead] = (await client.listDead({ bodyBytes: 2 })).messages;
  assert.deepEqual([text(dead!.body), dead!.size], ["xx", 1000]);
  const refused = await createHandler(queue)(new Request("http://queue.test/peek?bodyBytes=-1"));
  assert.equal(refused.status, 400);
  await assert.rejects(client.listDead({ bodyBytes: -1 }), RangeError);
});

test("A request left unanswered fails with NETWORK after requestTimeout, and close() is not needed to end it", async () => {
  const server = await silentServer();
  try {
    const client = createClient(`${server.url}/queues/q`, { requestTimeout: 200 });
    const started = Date.now();
    await assert.rejects(client.send({ body: "x" }), (error: QueueError) => {
      assert.equal(error.code, "NETWORK");
      assert.match(error.message, /within 200 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
    // A long poll gets its wait on top.
    const polling = createClient(`${server.url}/queues/q`, { requestTimeout: 100, maxWait: 200 });
    const pollStarted = Date.now();
    await assert.rejects(polling.receiveAndWait(), { code: "NETWORK" });
    assert.ok(Date.now() - pollStarted >= 280, "waited for the poll and the timeout");
  } finally {
    await server.close();
  }
});

test("createClient refuses a URL with a query, a fragment or a name that is not UTF-8", () => {
  for (const url of ["http://x/queues/q?token=1", "http://x/queues/q#f", "http://x/queues/100%"]) {
    assert.throws(() => createClient(url), TypeError, url);
  }
  assert.throws(() => createClient("http://x/queues/q", { requestTimeout: 0 }), RangeError);
});

test("receiveAndWait waits on through a 200 that holds no message", async () => {
  let calls = 0;
  const server = await countingServer(() => {
    calls++;
    return Promise.resolve(
      calls < 3
        ? Response.json({ Messages: [] })
        : Response.json({ Messages: [{ ID: "m_1", Body: btoa("at last"), Received: 1 }] }),
    );
  });
  try {
    const client = createClient(`${server.url}/queues/q`);
    const [message] = await client.receiveBatchAndWait(1, { signal: AbortSignal.timeout(5000) });
    assert.equal(text(message!.body), "at last");
    assert.equal(calls, 3);
  } finally {
    await server.close();
  }
});

eachEngine(
  "A job's lease renewal that the server never answers loses the lease in time and tells the job",
  async (
    ctx,
  ) => {
    const queue = ctx.queue({ name: "jobs", fakeClock: false, timeout: 300 });
    const handler = createHandler(queue);
    let hangRenewals = false;
    const client = createClient("http://queue.test/", {
      timeout: 300,
      fetch: (request) =>
        hangRenewals && request.method === "PUT" ? new Promise(() => {}) : handler(request),
    });
    const runner = new Runner({ queue: client, extend: 300, logger: { info: () => {} } });
    let abortedAfter: number | undefined;
    runner.register("slow", async (_body, job) => {
      const started = Date.now();
      hangRenewals = true;
      await new Promise<void>((resolve) => {
        job.signal.addEventListener("abort", () => {
          abortedAfter = Date.now() - started;
          resolve();
        }, { once: true });
        setTimeout(resolve, 3000);
      });
    });
    await createJob(queue, "slow", "x");
    const done = runner.start();
    await sleep(100);
    const deadline = Date.now() + 5000;
    while (abortedAfter === undefined && Date.now() < deadline) await sleep(20);
    hangRenewals = false;
    await runner.stop();
    await done.catch(() => {});
    assert.ok(abortedAfter !== undefined, "the job was told its lease was lost");
    assert.ok(abortedAfter! < 1000, `told after ${abortedAfter} ms`);
  },
);

test("A runner over a server that never answers stops within the client's requestTimeout", async () => {
  const server = await silentServer();
  try {
    const client = createClient(`${server.url}/queues/jobs`, { requestTimeout: 200 });
    const runner = new Runner({ queue: client, logger: { info: () => {} } });
    const done = runner.start();
    await sleep(100); // its first receive is waiting for an answer
    const started = Date.now();
    await runner.stop();
    await done;
    assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms`);
  } finally {
    await server.close();
  }
});

/** A TCP server that accepts connections and never answers (a stuck proxy, a half-open peer). */
async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
