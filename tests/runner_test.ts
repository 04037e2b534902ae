import assert from "node:assert/strict";
import { Queue } from "../mod.ts";
import {
  createJob,
  type JobFailureEvent,
  RetryJob,
  Runner,
  type RunnerOptions,
} from "../jobs/mod.ts";
import { roomOf } from "../src/sqlite/_wake.ts";
import { createClient, serve } from "../http/mod.ts";
import { type Context, eachDriver, run, sleep, text, until } from "./_helpers.ts";
import { pendingTimersAfter } from "./_timers.ts";

function setupQueue(
  { db }: Context,
  options: { timeout?: number; maxReceive?: number } = {},
): Queue {
  return new Queue({ db, name: "jobs", ...options });
}

function count(db: Context["db"]): number {
  return Number(db.prepare("select count(*) as n from goqite").get()?.n);
}

eachDriver("Runner runs a named job with its body and deletes its message", async (context) => {
  const queue = setupQueue(context);
  const runner = new Runner({ queue });
  const bodies: string[] = [];
  runner.register("greet", (body, job) => {
    bodies.push(text(body));
    assert.equal(job.name, "greet");
    assert.equal(job.attempt, 1);
    assert.ok(job.signal instanceof AbortSignal);
  });
  const stop = run(runner);
  await createJob(queue, "greet", "Yo");
  await until(() => bodies.length === 1);
  await stop();
  assert.deepEqual(bodies, ["Yo"]);
  assert.equal(count(context.db), 0);
});

eachDriver("Runner does not run a job registered under a different name", async (context) => {
  const queue = setupQueue(context);
  const runner = new Runner({ queue });
  let ran = 0;
  runner.register("a", () => void ran++);
  await createJob(queue, "b", "not for a");
  const stop = run(runner);
  await sleep(50);
  await stop();
  assert.equal(ran, 0);
  assert.equal(count(context.db), 1);
});

eachDriver(
  "Runner survives an unregistered job, keeps running others, and does not count the receive",
  async (context) => {
    const queue = setupQueue(context);
    const logs: string[] = [];
    const runner = new Runner({ queue, logger: { info: (message) => logs.push(message) } });
    let ran = 0;
    runner.register("known", () => void ran++);
    const unknown = await createJob(queue, "unknown", "x");
    await createJob(queue, "known", "y");
    const stop = run(runner);
    await until(() => ran === 1);
    await stop();
    const row = context.db.prepare("select received from goqite where id = ?").get(unknown);
    assert.equal(row?.received, 0, "left for a runner that has the job, receive not counted");
    assert.ok(logs.some((line) => /not registered/.test(line)));
  },
);

eachDriver("Runner kills a message that is not a job envelope at once", async (context) => {
  const queue = setupQueue(context);
  const runner = new Runner({ queue });
  runner.register("x", () => {});
  await queue.send({ body: "not an envelope" });
  const stop = run(runner);
  await until(async () => (await queue.countDead()) === 1);
  await stop();
  assert.equal((await queue.listDead()).messages[0]?.received, 3);
});

eachDriver(
  "Runner retries a throwing job with growing delays and it ends dead",
  async (context) => {
    const queue = setupQueue(context, { maxReceive: 3 });
    const failures: JobFailureEvent[] = [];
    const attempts: number[] = [];
    const runner = new Runner({
      queue,
      backoff: (attempt) => attempt * 40,
      hooks: { failure: (event) => void failures.push(event) },
    });
    runner.register("flaky", () => {
      attempts.push(Date.now());
      return Promise.reject(new Error("boom"));
    });
    await createJob(queue, "flaky", "x");
    const stop = run(runner);
    await until(async () => (await queue.countDead()) === 1);
    await stop();
    assert.equal(attempts.length, 3);
    assert.deepEqual(failures.map((f) => f.retryIn), [40, 80, undefined]);
    assert.deepEqual(failures.map((f) => f.attempt), [1, 2, 3]);
    assert.ok(attempts[1]! - attempts[0]! >= 39, "the second attempt waited its delay");
    assert.ok(attempts[2]! - attempts[1]! >= 79, "the third attempt waited a longer delay");
    assert.equal((failures[0]!.error as Error).message, "boom");
  },
);

eachDriver("Runner uses a job's own backoff over its default", async (context) => {
  const queue = setupQueue(context, { maxReceive: 2 });
  const retries: Array<number | undefined> = [];
  const runner = new Runner({
    queue,
    backoff: () => 10_000,
    hooks: { failure: (event) => void retries.push(event.retryIn) },
  });
  runner.register("own", () => {
    throw new Error("sync throw");
  }, { backoff: () => 5 });
  await createJob(queue, "own", "x");
  const stop = run(runner);
  await until(async () => (await queue.countDead()) === 1);
  await stop();
  assert.deepEqual(retries, [5, undefined]);
});

eachDriver("Runner retries a job that throws RetryJob without counting the attempt", async (
  context,
) => {
  const queue = setupQueue(context, { maxReceive: 1 });
  const attempts: number[] = [];
  const runner = new Runner({ queue });
  runner.register("later", (_body, job) => {
    attempts.push(job.attempt);
    if (attempts.length < 3) throw new RetryJob(10);
  });
  await createJob(queue, "later", "x");
  const stop = run(runner);
  await until(() => attempts.length === 3 && count(context.db) === 0);
  await stop();
  assert.deepEqual(attempts, [1, 1, 1], "maxReceive 1, yet it ran three times: none counted");
});

eachDriver("Runner extends a job that runs longer than the timeout, so it runs once", async (
  context,
) => {
  const queue = setupQueue(context, { timeout: 100 });
  const runner = new Runner({ queue, extend: 100, limit: 4 });
  let runs = 0;
  runner.register("slow", async () => {
    runs++;
    await sleep(450);
  });
  await createJob(queue, "slow", "x");
  const stop = run(runner);
  await until(() => count(context.db) === 0);
  await stop();
  assert.equal(runs, 1);
});

eachDriver("Runner aborts a job's signal when it loses the job's lease", async (context) => {
  const queue = setupQueue(context, { timeout: 100 });
  const runner = new Runner({ queue, extend: 100 });
  let aborted: unknown;
  const id = await createJob(queue, "victim", "x");
  runner.register("victim", async (_body, job) => {
    // Someone else takes the message behind the runner's back.
    context.db.prepare("update goqite set received = received + 1 where id = ?").run(id);
    await new Promise<void>((resolve) => {
      job.signal.addEventListener("abort", () => {
        aborted = job.signal.reason;
        resolve();
      });
    });
  });
  const stop = run(runner);
  await until(() => aborted !== undefined);
  await stop();
  assert.match(String(aborted), /lease/);
});

eachDriver("Runner runs higher priority jobs first", async (context) => {
  const queue = setupQueue(context);
  const order: string[] = [];
  const runner = new Runner({ queue, limit: 1, prefetch: 0 });
  runner.register("j", (body) => void order.push(text(body)));
  await createJob(queue, "j", "low", { priority: 1 });
  await createJob(queue, "j", "high", { priority: 9 });
  await createJob(queue, "j", "middle", { priority: 5 });
  const stop = run(runner);
  await until(() => order.length === 3);
  await stop();
  assert.deepEqual(order, ["high", "middle", "low"]);
});

eachDriver("Runner never runs more than limit jobs at once", async (context) => {
  const queue = setupQueue(context);
  const runner = new Runner({ queue, limit: 3 });
  let inFlight = 0;
  let highest = 0;
  let done = 0;
  runner.register("work", async () => {
    highest = Math.max(highest, ++inFlight);
    await sleep(5);
    inFlight--;
    done++;
  });
  await queue.sendBatch(Array.from({ length: 30 }, () => ({
    body: new TextEncoder().encode('{"v":1,"name":"work"}\n'),
  })));
  const stop = run(runner);
  await until(() => done === 30);
  await stop();
  assert.equal(highest, 3);
  assert.equal(count(context.db), 0);
});

eachDriver(
  "Runner shutdown waits for running jobs, starts no new one, and hands held messages back",
  async (context) => {
    const queue = setupQueue(context);
    const runner = new Runner({ queue, limit: 2 });
    let started = 0;
    let finished = 0;
    let sawAbort = false;
    runner.register("job", async (_body, job) => {
      started++;
      await sleep(30);
      sawAbort ||= job.signal.aborted;
      finished++;
    });
    for (let i = 0; i < 10; i++) await createJob(queue, "job", `${i}`);
    const controller = new AbortController();
    const done = runner.start({ signal: controller.signal });
    await until(() => started === 2);
    controller.abort();
    await done;
    assert.equal(started, 2, "no job started after the signal");
    assert.equal(finished, 2, "start() resolved after the running jobs finished");
    assert.ok(sawAbort, "running jobs saw the shutdown on their signal");
    const stats = await queue.stats();
    assert.equal(stats.total, 8);
    assert.equal(stats.visible, 8, "nothing is left hidden by the runner");
    assert.equal(stats.inFlight, 0);
  },
);

eachDriver("Runner hands back a job that stops because of the shutdown, uncounted", async (
  context,
) => {
  const queue = setupQueue(context);
  const runner = new Runner({ queue });
  let started = false;
  runner.register("long", (_body, job) =>
    new Promise((_resolve, reject) => {
      started = true;
      job.signal.addEventListener("abort", () => reject(job.signal.reason));
    }));
  const id = await createJob(queue, "long", "x");
  const controller = new AbortController();
  const done = runner.start({ signal: controller.signal });
  await until(() => started);
  controller.abort(new Error("deploy"));
  await done;
  const row = context.db.prepare(
    "select received, timeout <= ? as visible from goqite where id = ?",
  )
    .get(new Date().toISOString(), id);
  assert.equal(row?.received, 0);
  assert.equal(row?.visible, 1);
});

eachDriver("A job created in a rolled-back transaction never runs", async (context) => {
  const queue = setupQueue(context);
  let ran = 0;
  const runner = new Runner({ queue });
  runner.register("charge", () => void ran++);
  assert.throws(() =>
    queue.transaction((tx) => {
      createJob(tx, "charge", "order 1");
      throw new Error("rolled back");
    })
  );
  queue.transaction((tx) => createJob(tx, "charge", "order 2"));
  const stop = run(runner);
  await until(() => ran === 1);
  await sleep(30);
  await stop();
  assert.equal(ran, 1);
});

eachDriver("Runner calls its hooks and logs the names, runs and failures", async (context) => {
  const queue = setupQueue(context, { maxReceive: 1 });
  const events: string[] = [];
  const logs: Array<[string, Record<string, unknown> | undefined]> = [];
  const runner = new Runner({
    queue,
    logger: { info: (message, fields) => void logs.push([message, fields]) },
    hooks: {
      run: (event) => void events.push(`run ${event.name}`),
      success: (event) => void events.push(`success ${event.name}`),
      failure: (event) => void events.push(`failure ${event.name}`),
    },
  });
  runner.register("ok", () => {});
  runner.register("bad", () => {
    throw new Error("nope");
  });
  await createJob(queue, "ok", "x");
  const bad = await createJob(queue, "bad", "y");
  const stop = run(runner);
  await until(() => events.length === 4);
  await stop();
  assert.deepEqual(events.sort(), ["failure bad", "run bad", "run ok", "success ok"]);
  assert.deepEqual(logs[0]?.[1]?.jobs, ["ok", "bad"]);
  const failure = logs.find(([message]) => /failed/.test(message));
  assert.equal(failure?.[1]?.name, "bad");
  assert.equal(failure?.[1]?.id, bad);
  assert.match(String(failure?.[1]?.error), /nope/);
  assert.ok(logs.some(([message, fields]) => message === "Ran job" && fields?.name === "ok"));
  assert.equal(typeof logs.find(([m]) => m === "Ran job")?.[1]?.duration, "number");
});

eachDriver("Runner leaves no timer or waiter behind after start() resolves", async (context) => {
  const queue = setupQueue(context, { timeout: 200 });
  const pending = await pendingTimersAfter(async () => {
    const runner = new Runner({ queue, extend: 100 });
    let done = 0;
    runner.register("j", async () => {
      await sleep(1);
      done++;
    });
    for (let i = 0; i < 20; i++) await createJob(queue, "j", "x");
    const stop = run(runner);
    await until(() => done === 20);
    await sleep(20); // idle, waiting for more
    await stop();
  });
  assert.equal(pending, 0);
  assert.equal(roomOf(context.db).size, 0);
});

eachDriver("Runner rejects misuse at once", async (context) => {
  const queue = setupQueue(context);
  const make = (options: Partial<RunnerOptions>) => () =>
    new Runner({ queue, ...options } as RunnerOptions);
  assert.throws(make({ queue: undefined as unknown as Queue }), TypeError);
  assert.throws(make({ limit: 0 }), RangeError);
  assert.throws(make({ limit: 1.5 }), RangeError);
  assert.throws(make({ prefetch: -1 }), RangeError);
  assert.throws(make({ pollInterval: 0 }), RangeError);
  assert.throws(make({ extend: -5 }), RangeError);
  assert.throws(make({ backoff: { jitter: 2 } }), RangeError);
  assert.throws(make({ logger: {} as { info(): void } }), TypeError);
  const runner = new Runner({ queue });
  runner.register("a", () => {});
  assert.throws(() => runner.register("a", () => {}), TypeError);
  assert.throws(() => runner.register("", () => {}), TypeError);
  assert.throws(() => runner.register("b", "x" as unknown as () => void), TypeError);
  const stop = run(runner);
  await assert.rejects(runner.start(), TypeError);
  await stop();
  await assert.rejects(createJob(queue, "", "x"), TypeError);
  await assert.rejects(createJob(queue, "a", 5 as unknown as string), TypeError);
  await assert.rejects(createJob(queue, "a", "x", { delay: -1 }), RangeError);
  assert.throws(() => new RetryJob(-1), RangeError);
});

eachDriver("Runner.start() rejects with CLOSED when its queue is closed under it", async (
  context,
) => {
  const queue = setupQueue(context);
  const runner = new Runner({ queue });
  runner.register("x", () => {});
  const done = runner.start();
  await sleep(10);
  queue.close();
  await assert.rejects(done, { name: "QueueError", code: "CLOSED" });
});

for (const kind of ["synchronous", "async"] as const) {
  eachDriver(`Runner lets timers run while it drains a backlog of ${kind} jobs`, async (
    context,
  ) => {
    const queue = setupQueue(context);
    const total = 3000;
    queue.transaction((tx) => {
      for (let i = 0; i < total; i++) createJob(tx, "noop", "");
    });
    const runner = new Runner({ queue, limit: 4 });
    const controller = new AbortController();
    let done = 0;
    const finish = (): void => {
      if (++done === total) controller.abort();
    };
    runner.register("noop", kind === "async" ? () => Promise.resolve().then(finish) : finish);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const started = performance.now();
    try {
      await runner.start({ signal: controller.signal });
    } finally {
      clearInterval(ticker);
    }
    const elapsed = performance.now() - started;
    assert.equal(done, total);
    assert.ok(ticks > 0, `a 1 ms timer ticked ${ticks} times during a ${elapsed} ms drain`);
  });
}

eachDriver(
  "Runner.stop() gives up on a hung job after the grace period: start() resolves, renewals " +
    "stop, and the message is received again when its lease runs out",
  async (context) => {
    const queue = setupQueue(context, { timeout: 200 });
    const runner = new Runner({ queue, extend: 200, gracePeriod: 150 });
    let started = 0;
    runner.register("hang", () => {
      started++;
      return new Promise(() => {}); // ignores its signal, never ends
    });
    await createJob(queue, "hang", "x");
    const running = runner.start();
    await until(() => started === 1);
    const before = performance.now();
    await runner.stop();
    await running;
    const stopping = performance.now() - before;
    assert.ok(stopping >= 140 && stopping < 2000, `stop() took ${stopping.toFixed(0)} ms`);
    const other = new Queue({ db: context.connect(), name: "jobs" });
    let message;
    const deadline = performance.now() + 2000;
    while ((message = await other.receive()) === undefined && performance.now() < deadline) {
      await sleep(10);
    }
    assert.ok(message, "the lease ran out: no renewal after the grace period");
    assert.equal(message.received, 2);
  },
);

eachDriver("Runner stops taking work when its queue is closed", async (context) => {
  const queue = setupQueue(context);
  queue.transaction((tx) => {
    for (let i = 0; i < 200; i++) createJob(tx, "slow", "");
  });
  const runner = new Runner({ queue, limit: 2 });
  let started = 0;
  runner.register("slow", () => {
    started++;
    return sleep(20);
  });
  const running = runner.start();
  await until(() => started >= 5);
  await queue.close();
  const atClose = started;
  await assert.rejects(running, { name: "QueueError", code: "CLOSED" });
  await sleep(100);
  assert.equal(started, atClose, `${started - atClose} jobs started after the queue closed`);
});

eachDriver(
  "Runner never receives inside a transaction the caller left open on its connection",
  async (context) => {
    const queue = setupQueue(context);
    await createJob(queue, "work", "x");
    const runner = new Runner({ queue, pollInterval: 10 });
    let ran = 0;
    runner.register("work", () => void ran++);
    context.db.exec("begin");
    const stop = run(runner);
    try {
      await sleep(150);
      assert.equal(ran, 0, "no job ran inside the caller's transaction");
    } finally {
      context.db.exec("rollback");
    }
    await until(() => ran === 1);
    await until(() => count(context.db) === 0);
    await stop();
    assert.equal(ran, 1);
  },
);

eachDriver(
  "Runner keeps finished jobs' acknowledgements when deleting fails and deletes them later, " +
    "so no job runs twice",
  async (context) => {
    const queue = setupQueue(context, { timeout: 300 });
    let failures = 3;
    const failing =
      (method: "deleteBatch" | "deleteAndReceive") => (...args: unknown[]): Promise<unknown> => {
        if (failures > 0) {
          failures--;
          return Promise.reject(new Error("simulated failure to delete"));
        }
        return (queue[method] as (...a: unknown[]) => Promise<unknown>).apply(queue, args);
      };
    const flaky = new Proxy(queue, {
      get(target, key): unknown {
        if (key === "deleteBatch" || key === "deleteAndReceive") return failing(key);
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const runner = new Runner({ queue: flaky, pollInterval: 10, extend: 300 });
    const runs = new Map<string, number>();
    runner.register("once", (body) => {
      const key = text(body);
      runs.set(key, (runs.get(key) ?? 0) + 1);
    });
    for (let i = 0; i < 5; i++) await createJob(queue, "once", String(i));
    const stop = run(runner);
    await until(() => count(context.db) === 0);
    await sleep(400); // past the lease: a dropped acknowledgement would run a job again
    await stop();
    assert.equal(failures, 0, "the deletes did fail");
    assert.deepEqual([...runs.values()], [1, 1, 1, 1, 1]);
  },
);

eachDriver("Runner runs jobs over the HTTP client of a real server", async ({ path }) => {
  await using server = await serve({ db: path, port: 0 });
  const client = createClient(`${server.url}/queues/jobs`);
  const runner = new Runner({ queue: client, pollInterval: 10 });
  const seen: string[] = [];
  runner.register("greet", (body) => void seen.push(text(body)));
  await createJob(client, "greet", "over http");
  await createJob(client, "greet", "twice");
  const stop = run(runner);
  await until(() => seen.length === 2);
  await stop();
  assert.deepEqual(seen.sort(), ["over http", "twice"]);
  assert.equal((await client.stats()).total, 0);
}, ["node:sqlite", "bun:sqlite"]);

eachDriver(
  "A job whose result is a thenable that throws fails as a job does, and the runner runs on",
  async (context) => {
    const queue = setupQueue(context, { maxReceive: 1 });
    const failures: unknown[] = [];
    const runner = new Runner({
      queue,
      logger: { info: () => {} },
      hooks: { failure: (event) => void failures.push(event.error) },
    });
    runner.register("throws-in-then", () => ({
      then(): never {
        throw new Error("then broke");
      },
    }));
    runner.register("getter", () => ({
      get then(): never {
        throw new Error("getter broke");
      },
    }));
    runner.register("twice", () => ({
      then(ok: () => void, fail: (error: unknown) => void): void {
        ok();
        fail(new Error("late"));
      },
    }));
    const ran: string[] = [];
    runner.register("fine", (body) => void ran.push(text(body)));
    for (const name of ["throws-in-then", "getter", "twice"]) await createJob(queue, name, "x");
    await createJob(queue, "fine", "after");
    const stop = run(runner);
    await until(() => ran.length === 1 && failures.length === 2 && count(context.db) === 2);
    await stop();
    assert.deepEqual(failures.map((error) => (error as Error).message).sort(), [
      "getter broke",
      "then broke",
    ]);
    assert.equal(runner.running, 0);
    assert.equal((await queue.stats()).dead, 2, "the two failures are dead; 'twice' succeeded");
  },
);

eachDriver(
  "A backoff function's delay is used in whole ms, and one that throws or gives no number falls back to the default",
  async (context) => {
    const queue = setupQueue(context, { maxReceive: 2 });
    const retries: Array<number | undefined> = [];
    const runner = new Runner({
      queue,
      logger: { info: () => {} },
      hooks: { failure: (event) => void retries.push(event.retryIn) },
    });
    const fail = (): never => {
      throw new Error("no");
    };
    runner.register("fraction", fail, { backoff: () => 12.25 });
    runner.register("throws", fail, {
      backoff: () => {
        throw new Error("backoff broke");
      },
    });
    runner.register("nan", fail, { backoff: () => NaN });
    await createJob(queue, "fraction", "x");
    await createJob(queue, "throws", "x");
    await createJob(queue, "nan", "x");
    const stop = run(runner);
    await until(() => retries.length >= 3);
    await stop();
    const [fraction, ...fallbacks] = retries;
    assert.equal(fraction, 13);
    for (const retryIn of fallbacks) {
      assert.ok(Number.isInteger(retryIn) && retryIn! >= 500 && retryIn! <= 1000, `${retryIn}`);
    }
  },
);

eachDriver(
  "A runner started again after a stop that gave up on a job runs new jobs once that job ends",
  async (context) => {
    const queue = setupQueue(context, { timeout: 60_000 });
    const runner = new Runner({ queue, limit: 1, gracePeriod: 50, logger: { info: () => {} } });
    let release!: () => void;
    const hung = new Promise<void>((resolve) => release = resolve);
    const ran: string[] = [];
    runner.register("hang", () => hung);
    runner.register("next", (body) => void ran.push(text(body)));
    await createJob(queue, "hang", "x");
    const first = run(runner);
    await until(() => runner.running === 1);
    await first(); // gives up on the hung job after 50 ms
    const second = run(runner);
    await createJob(queue, "next", "after the restart");
    await sleep(50);
    release(); // the abandoned job ends; its slot is free for the new run
    await until(() => ran.length === 1);
    await second();
    assert.deepEqual(ran, ["after the restart"]);
  },
);
