/**
 * The job runner over every engine: it depends on `QueueLike` alone, so what it promises on
 * SQLite (see runner_test.ts) it must keep on PostgreSQL too. These cases use real time (the
 * runner's timers run on it), and a second queue object of their own for the producer, as
 * another process would have.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createJob, type JobFailureEvent, Runner } from "../jobs/mod.ts";
import { run, sleep, text, until } from "./_helpers.ts";
import { eachEngine, type EngineQueue } from "./_engines.ts";

eachEngine("Runner runs a job created through another connection, and deletes it", async (
  { queue, count },
) => {
  const jobs = queue({ name: "jobs", fakeClock: false });
  const producer: EngineQueue = queue({ name: "jobs", fakeClock: false, separate: true });
  const runner = new Runner({ queue: jobs, pollInterval: 60_000 });
  const bodies: string[] = [];
  runner.register("greet", (body, job) => {
    bodies.push(text(body));
    assert.equal(job.attempt, 1);
  });
  const stop = run(runner);
  await sleep(20);
  await createJob(producer, "greet", "Yo");
  await until(() => bodies.length === 1);
  await until(async () => (await count()) === 0);
  await stop();
  assert.deepEqual(bodies, ["Yo"]);
});

eachEngine("Runner retries a throwing job with growing delays and it ends dead", async (
  { queue },
) => {
  const jobs = queue({ name: "jobs", fakeClock: false, maxReceive: 3 });
  const failures: JobFailureEvent[] = [];
  const attempts: number[] = [];
  const runner = new Runner({
    queue: jobs,
    backoff: (attempt) => attempt * 40,
    hooks: { failure: (event) => void failures.push(event) },
  });
  runner.register("flaky", () => {
    attempts.push(Date.now());
    return Promise.reject(new Error("boom"));
  });
  await createJob(jobs, "flaky", "x");
  const stop = run(runner);
  await until(async () => (await jobs.countDead()) === 1);
  await stop();
  assert.equal(attempts.length, 3);
  assert.deepEqual(failures.map((f) => f.retryIn), [40, 80, undefined]);
  assert.ok(attempts[1]! - attempts[0]! >= 35, "the second attempt waited its delay");
  assert.ok(attempts[2]! - attempts[1]! >= 75, "the third attempt waited a longer delay");
});

eachEngine("Runner extends a job that runs longer than the timeout, so it runs once", async (
  { queue, count },
) => {
  // Leases of 500 ms renewed at 80 %: 100 ms for a renewal to reach PostgreSQL, and three
  // renewals in the job's 1.5 s.
  const jobs = queue({ name: "jobs", fakeClock: false, timeout: 500 });
  const runner = new Runner({ queue: jobs, extend: 500, limit: 4 });
  let runs = 0;
  runner.register("slow", async () => {
    runs++;
    await sleep(1500);
  });
  await createJob(jobs, "slow", "x");
  const stop = run(runner);
  await until(async () => (await count()) === 0);
  await stop();
  assert.equal(runs, 1);
});

eachEngine("Runner drains a backlog with prefetch, each job once, and hands none back", async (
  { queue, count },
) => {
  const jobs = queue({ name: "jobs", fakeClock: false, timeout: 30_000 });
  const total = 1000;
  const bodies = Array.from({ length: total }, (_, i) => `${i}`);
  for (let i = 0; i < total; i += 250) {
    await jobs.sendBatch(
      await Promise.all(
        bodies.slice(i, i + 250).map(async (body) => ({
          body: await jobBody("noop", body),
        })),
      ),
    );
  }
  const seen = new Set<string>();
  let duplicates = 0;
  const runner = new Runner({ queue: jobs, limit: 8 });
  runner.register("noop", (body) => {
    const key = text(body);
    if (seen.has(key)) duplicates++;
    seen.add(key);
  });
  const stop = run(runner);
  await until(() => seen.size === total, 30_000);
  await until(async () => (await count()) === 0);
  await stop();
  assert.equal(duplicates, 0);
});

eachEngine("Runner stops with prefetched jobs handed back uncounted", async ({ queue }) => {
  const jobs = queue({ name: "jobs", fakeClock: false, timeout: 30_000 });
  for (let i = 0; i < 50; i++) await createJob(jobs, "slow", `${i}`);
  const runner = new Runner({ queue: jobs, limit: 1 });
  let started = 0;
  runner.register("slow", async (_body, job) => {
    started++;
    await sleep(20);
    job.signal.throwIfAborted();
  });
  const stop = run(runner);
  await until(() => started >= 2);
  await stop();
  const stats = await jobs.stats();
  assert.equal(stats.inFlight, 0, "nothing left leased");
  assert.ok(stats.visible >= 50 - started - 1, `${stats.visible} visible again`);
  const peeked = await jobs.peek({ limit: 100 });
  assert.ok(peeked.every((message) => message.received === 0), "the hand-back did not count");
});

/** A job's message body, as createJob writes it (through a throwaway in-memory queue). */
async function jobBody(name: string, body: string): Promise<Uint8Array> {
  const { encodeJob } = await import("../jobs/envelope.ts");
  return encodeJob(name, body);
}
