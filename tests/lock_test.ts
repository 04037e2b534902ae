/**
 * The guarantees under lock contention: another process holds the SQLite file's write lock.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "../mod.ts";
import { serve } from "../http/mod.ts";
import { eachDriver, runtimeCommand, sleep } from "./_helpers.ts";

const HOLDER = fileURLToPath(new URL("./_lock_holder.ts", import.meta.url));

/** Starts a process that holds the write lock of `path` for `ms`; resolves once it holds it. */
async function holdLock(
  driver: string,
  path: string,
  ms: number,
): Promise<{ released: Promise<number>; process: ChildProcess }> {
  const [exe, prefix] = runtimeCommand(HOLDER);
  // The stand-in for @db/sqlite is node:sqlite underneath; any process's lock is a lock.
  const child = spawn(exe, [
    ...prefix,
    driver === "@db/sqlite" ? "node:sqlite" : driver,
    path,
    String(ms),
  ], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let onLocked!: () => void;
  let onReleased!: (at: number) => void;
  const locked = new Promise<void>((resolve) => onLocked = resolve);
  const released = new Promise<number>((resolve) => onReleased = resolve);
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
    if (stdout.includes("locked")) onLocked();
    if (stdout.includes("released")) onReleased(performance.now());
  });
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const exited = new Promise<never>((_, reject) =>
    child.on("close", (code) => {
      if (!stdout.includes("released")) reject(new Error(`lock holder exited ${code}: ${stderr}`));
    })
  );
  await Promise.race([locked, exited]);
  return { released, process: child };
}

eachDriver(
  "A lease starts once the lock is held: while another process holds it past the timeout, " +
    "no other consumer gets the message earlier than the timeout after the receive returned",
  async ({ db, connect, driver, path }) => {
    const a = new Queue({ db, name: "q", timeout: 1000 });
    const b = new Queue({ db: connect(), name: "q", timeout: 1000 });
    const id = await a.send({ body: "once" });
    const { released } = await holdLock(driver, path, 1500);
    const message = await a.receive();
    const returned = performance.now();
    assert.equal(message?.id, id);
    assert.ok(returned >= (await released) - 250, "the receive waited for the lock");
    let other;
    while ((other = await b.receive()) === undefined) await sleep(5);
    const after = performance.now() - returned;
    assert.equal(other.id, id);
    assert.ok(
      after >= 950,
      `another consumer got the message ${after.toFixed(0)} ms after the receive`,
    );
  },
);

eachDriver(
  "Waiting for another process's lock does not block the event loop: timers fire and a " +
    "server in the same process answers",
  async ({ db, driver, path }) => {
    const queue = new Queue({ db, name: "q" });
    await using server = await serve({ db: ":memory:", port: 0 });
    const { released } = await holdLock(driver, path, 2000);
    const start = performance.now();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const sent = queue.send({ body: "waits for the lock" }).then(() => performance.now());
      await sleep(100);
      const health = await fetch(`${server.url}/health`);
      const answeredAt = performance.now();
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const releasedAt = await released;
      const sentAt = await sent;
      assert.ok(answeredAt < releasedAt, "the request was answered while the lock was held");
      assert.ok(sentAt >= releasedAt - 250, "the send waited for the lock");
      const heldFor = releasedAt - start;
      assert.ok(heldFor >= 1900, `the lock was held ${heldFor.toFixed(0)} ms`);
      assert.ok(ticks >= 300, `a 5 ms interval fired ${ticks} times in ${heldFor.toFixed(0)} ms`);
    } finally {
      clearInterval(timer);
    }
  },
);

eachDriver(
  "receiveAndWait rejects with its signal's reason as soon as it aborts, also while it waits " +
    "for another process's lock",
  async ({ connect, driver, path }) => {
    const queue = new Queue({ db: connect(), name: "q" });
    const { released } = await holdLock(driver, path, 1500);
    const reason = new Error("stop");
    const started = performance.now();
    try {
      const error = await queue.receiveAndWait({ signal: AbortSignal.timeout(100) })
        .then(() => undefined, (e: unknown) => e);
      const waited = performance.now() - started;
      assert.ok(error instanceof DOMException || error instanceof Error, String(error));
      assert.notEqual((error as { code?: string }).code, "BUSY");
      assert.ok(waited < 700, `rejected after ${waited.toFixed(0)} ms`);
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 100);
      const second = await queue.receiveAndWait({ signal: controller.signal }).catch((e) => e);
      assert.equal(second, reason);
    } finally {
      await released;
    }
  },
);

eachDriver("A queue rejects with BUSY once the busy timeout passes, without blocking", async (
  { connect, driver, path },
) => {
  const db = connect();
  db.busyTimeout = 300;
  const queue = new Queue({ db, name: "q" });
  const { released } = await holdLock(driver, path, 1500);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const started = performance.now();
  try {
    const error = await queue.send({ body: "x" }).catch((e: unknown) => e);
    const waited = performance.now() - started;
    assert.equal((error as { code?: string }).code, "BUSY");
    assert.ok(waited >= 250 && waited < 1000, `gave up after ${waited.toFixed(0)} ms`);
    assert.ok(ticks >= 30, `a 5 ms interval fired ${ticks} times while it waited`);
  } finally {
    clearInterval(timer);
    await released;
  }
});
