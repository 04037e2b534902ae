/**
 * Mounting `createHandler(queue)` under a path prefix in each server this runtime has:
 * `Deno.serve`, `Bun.serve`, `node:http` through `toNodeListener`, and Hono (a development
 * dependency, in package.json only) both ways, routing by hand and with `mount()`. The mount
 * paths end in route names (`/stats`, `/x/dead`) on purpose.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { Hono } from "hono";
import { type Database, open, Queue, setup } from "../mod.ts";
import { createClient, createHandler, type Handler, toNodeListener } from "../http/mod.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { text } from "./_helpers.ts";

interface Running {
  readonly url: string;
  close(): Promise<void>;
}

type Serve = (app: Handler) => Promise<Running>;

const servers: Record<string, Serve> = {
  "node:http": (app) =>
    new Promise((resolve) => {
      const server = createServer(toNodeListener(app));
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        resolve({
          url: `http://127.0.0.1:${port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        });
      });
    }),
};
if (detectRuntime() === "deno") {
  servers["Deno.serve"] = (app) =>
    new Promise((resolve) => {
      const deno = (globalThis as unknown as {
        Deno: {
          serve(
            options: { port: number; hostname: string; onListen: () => void },
            handler: Handler,
          ): { addr: { port: number }; shutdown(): Promise<void> };
        };
      }).Deno;
      const server = deno.serve({
        port: 0,
        hostname: "127.0.0.1",
        onListen: () =>
          queueMicrotask(() =>
            resolve({ url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() })
          ),
      }, app);
    });
}
if (detectRuntime() === "bun") {
  servers["Bun.serve"] = (app) => {
    const bun = (globalThis as unknown as {
      Bun: {
        serve(options: { port: number; hostname: string; fetch: Handler }): {
          port: number;
          stop(force: boolean): Promise<void>;
        };
      };
    }).Bun;
    const server = bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app });
    return Promise.resolve({
      url: `http://127.0.0.1:${server.port}`,
      close: () => server.stop(true),
    });
  };
}

/** Two queues of one database: `a` for `/stats`, `b` for `/x/dead`. */
function queues(): { db: Database; a: Queue; b: Queue } {
  const db = open(":memory:");
  setup(db);
  return { db, a: new Queue({ db, name: "a" }), b: new Queue({ db, name: "b" }) };
}

/** By hand: send each prefix to its handler, anything else to 404. */
function byPrefix(stats: Handler, dead: Handler): Handler {
  return (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/stats" || path.startsWith("/stats/")) return stats(request);
    if (path === "/x/dead" || path.startsWith("/x/dead/")) return dead(request);
    return Promise.resolve(new Response("no such app route\n", { status: 404 }));
  };
}

/** What every way of mounting must do. */
async function exercise(url: string): Promise<void> {
  const a = createClient(`${url}/stats`);
  const b = createClient(`${url}/x/dead/`);
  await a.send({ body: "to a" });
  await b.sendBatch([{ body: "to b" }, { body: "also to b" }]);
  // GET on the mount point receives: it is not mistaken for the stats or dead route.
  const fromA = await a.receive();
  assert.equal(text(fromA!.body), "to a");
  assert.equal((await a.stats()).inFlight, 1);
  assert.equal((await b.stats()).visible, 2);
  assert.equal((await b.peek()).length, 2);
  assert.deepEqual((await b.listDead()).messages, []);
  assert.equal(await b.countDead(), 0);
  const fromB = await b.receiveBatch(2);
  assert.deepEqual(fromB.map((m) => text(m.body)), ["to b", "also to b"]);
  assert.deepEqual(await b.deleteBatch(fromB), [true, true]);
  assert.equal(await a.delete(fromA!), true);
  assert.equal(await a.purge(), 0);

  const status = async (path: string, init?: RequestInit): Promise<number> => {
    const response = await fetch(`${url}${path}`, init);
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await status("/stats"), 204, "the mount point itself receives");
  assert.equal(await status("/stats/"), 204);
  assert.equal(await status("/stats/stats"), 200);
  assert.equal(await status("/x/dead/dead"), 200);
  assert.equal(await status("/x/dead/dead/count"), 200);
  assert.equal(await status("/stats/nothing"), 404, "unknown paths below the mount point");
  assert.equal(await status("/stats/a/stats"), 404);
  assert.equal(await status("/x/dead/dead", { method: "PUT" }), 405);
}

for (const [name, serve] of Object.entries(servers)) {
  test(`createHandler mounts under /stats and /x/dead in ${name}`, async () => {
    const { db, a, b } = queues();
    const stats = createHandler(a, { basePath: "/stats" });
    const dead = createHandler(b, { basePath: "/x/dead/" });
    const server = await serve(byPrefix(stats, dead));
    try {
      await exercise(server.url);
    } finally {
      await server.close();
      db.close();
    }
  });

  test(`createHandler mounts under /stats and /x/dead in Hono, served by ${name}`, async () => {
    const { db, a, b } = queues();
    const app = new Hono();
    // By hand: the handler gets the whole path and matches below its basePath.
    const stats = createHandler(a, { basePath: "/stats" });
    app.all("/stats", (c) => stats(c.req.raw));
    app.all("/stats/*", (c) => stats(c.req.raw));
    // With mount(), which strips the prefix: the handler sees paths below "/".
    app.mount("/x/dead", createHandler(b, { basePath: "/" }));
    const server = await serve((request) => Promise.resolve(app.fetch(request)));
    try {
      await exercise(server.url);
    } finally {
      await server.close();
      db.close();
    }
  });
}

test("A basePath that is not a path is refused", () => {
  using db = open(":memory:");
  setup(db);
  const queue = new Queue({ db, name: "q" });
  for (const basePath of ["stats", "", "/a?b", 5]) {
    assert.throws(() => createHandler(queue, { basePath: basePath as string }), TypeError);
  }
});
