import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "../mod.ts";
import { eachDriver, runScript, runtimeCommand, text } from "./_helpers.ts";

const CHILD = fileURLToPath(new URL("./_child.ts", import.meta.url));

/** Runs the child script with this runtime and returns its standard output. */
function child(args: string[]): Promise<string> {
  return runScript(CHILD, args);
}

eachDriver("A message sent by another process wakes receiveAndWait and is received once", async (
  { db, driver, path },
) => {
  const queue = new Queue({ db, name: "cross", timeout: 60_000 });
  const waiting = queue.receiveAndWait({
    interval: 60_000,
    signal: AbortSignal.timeout(30_000),
  });
  const id = await child(["send", driver, path, "cross", "hello from afar"]);
  const message = await waiting;
  assert.equal(message.id, id);
  assert.equal(text(message.body), "hello from afar");
  assert.equal(await queue.receive(), undefined, "received exactly once");
});

for (const synchronous of ["NORMAL", "FULL"]) {
  eachDriver(
    `A waiter wakes within milliseconds of each commit of another process, with synchronous ${synchronous}`,
    async ({ db, driver, path }) => {
      db.exec(`pragma synchronous = ${synchronous}`);
      const queue = new Queue({ db, name: "stamps", timeout: 60_000 });
      // The other process sends one message each time it reads "go".
      const [exe, prefix] = runtimeCommand(CHILD);
      const sender = spawn(exe, [...prefix, "stamps", driver, path, "stamps", synchronous], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      const exited = new Promise((resolve) => sender.on("close", resolve));
      await new Promise<void>((resolve) => {
        let output = "";
        sender.stdout.on("data", (chunk) => {
          output += chunk;
          if (output.includes("ready\n")) resolve();
        });
      });
      const count = 15;
      const latencies: number[] = [];
      try {
        for (let i = 0; i < count; i++) {
          // The interval is far beyond the test: only the file's watcher can wake the waiter.
          const waiting = queue.receiveAndWait({
            interval: 60_000,
            signal: AbortSignal.timeout(30_000),
          });
          sender.stdin.write("go\n");
          const message = await waiting;
          latencies.push(performance.timeOrigin + performance.now() - Number(text(message.body)));
          await queue.delete(message);
        }
      } finally {
        sender.stdin.end();
        await exited;
      }
      latencies.sort((a, b) => a - b);
      // A commit the watcher misses waits for its fallback poll, 100 ms.
      assert.ok(
        latencies[Math.floor(count / 2)]! < 40,
        `median wake-up under 40 ms; in ms: ${latencies.map((ms) => ms.toFixed(1)).join(", ")}`,
      );
    },
  );
}

eachDriver("Two processes draining one queue receive every message exactly once", async (
  { db, driver, path },
) => {
  const queue = new Queue({ db, name: "shared", timeout: 60_000 });
  const count = 1000;
  const sent = new Set<string>();
  for (let i = 0; i < count; i++) sent.add(await queue.send({ body: `m${i}` }));
  const theirs = child(["drain", driver, path, "shared"]);
  // Start competing once the other process has received its first message.
  const started = Date.now();
  while (db.prepare("select count(*) as n from goqite").get()?.n === count) {
    assert.ok(Date.now() - started < 30_000, "the other process started receiving");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const mine: string[] = [];
  for (let message = await queue.receive(); message; message = await queue.receive()) {
    mine.push(message.id);
    await queue.delete(message);
  }
  const other: string[] = JSON.parse(await theirs);
  assert.ok(other.length > 0, "the other process received messages");
  const all = [...mine, ...other];
  assert.equal(all.length, count, "no message was received twice");
  assert.deepEqual(new Set(all), sent, "every message was received");
  assert.equal(db.prepare("select count(*) as n from goqite").get()?.n, 0);
});
