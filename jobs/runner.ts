/**
 * The job runner: goqite's runner, made robust and fast.
 *
 * @module
 */

import type { Message, MessageId } from "../src/message.ts";
import type { QueueLike } from "../src/queue_like.ts";
import { QueueError } from "../src/errors.ts";
import { MAX_DURATION_MS } from "../src/_time.ts";
import { checkInteger, checkName, checkPositive, checkSignal, show } from "../src/_validate.ts";
import { decodeJob } from "./envelope.ts";
import { describeError as describe, log, type Logger } from "../src/logger.ts";
import { type Lease, Leases } from "./_leases.ts";
import { Acks } from "./_acks.ts";

export type { Logger };

/** What a job function gets besides its body. */
export interface JobContext {
  /** The message id. */
  readonly id: MessageId;
  /** The job's name. */
  readonly name: string;
  /** Which attempt this is: 1 the first time, and so on (the message's receive count). */
  readonly attempt: number;
  /**
   * Fires when the runner shuts down, and when it loses the message's lease (it could not
   * extend it in time, and another consumer may have it now). Pass it to your I/O: a job that
   * ignores it is abandoned after the runner's `gracePeriod` on shutdown.
   */
  readonly signal: AbortSignal;
}

/** A job: it succeeds when it returns (or its promise resolves), and fails when it throws. */
export type JobFunction = (body: Uint8Array, context: JobContext) => unknown;

/** Exponential backoff with jitter, as numbers. */
export interface BackoffOptions {
  /**
   * The delay after the first failure, in milliseconds; it doubles with each failure.
   *
   * @default {1000}
   */
  base?: number;
  /**
   * The longest delay, in milliseconds.
   *
   * @default {60000}
   */
  max?: number;
  /**
   * How much of the delay is random: the delay is taken evenly from
   * `[delay × (1 − jitter), delay]`.
   *
   * @default {0.5}
   */
  jitter?: number;
}

/** A backoff: options, or a function from the failed attempt (1, 2, …) to a delay in ms. */
export type Backoff = BackoffOptions | ((attempt: number) => number);

/** Options for {@linkcode Runner.register}. */
export interface RegisterOptions {
  /** This job's backoff; the runner's by default. */
  backoff?: Backoff;
}

/** What every hook receives. */
export interface JobEvent {
  /** The message id. */
  readonly id: MessageId;
  /** The job's name. */
  readonly name: string;
  /** The attempt (the message's receive count). */
  readonly attempt: number;
}

/** What the `success` hook receives. */
export interface JobSuccessEvent extends JobEvent {
  /** How long the job ran, in milliseconds. */
  readonly duration: number;
}

/** What the `failure` hook receives. */
export interface JobFailureEvent extends JobEvent {
  /** How long the job ran, in milliseconds. */
  readonly duration: number;
  /** What the job threw. */
  readonly error: unknown;
  /** In how many milliseconds it will be retried; `undefined` when it is now dead. */
  readonly retryIn: number | undefined;
}

/** Hooks for metrics. They must not throw (what they throw is logged and ignored). */
export interface RunnerHooks {
  /** A job starts. */
  run?(event: JobEvent): void;
  /** A job succeeded (its message is being deleted). */
  success?(event: JobSuccessEvent): void;
  /** A job failed. */
  failure?(event: JobFailureEvent): void;
}

/** Options for {@linkcode Runner}. */
export interface RunnerOptions {
  /**
   * The queue to take jobs from: a SQLite `Queue`, a PostgreSQL queue, or an HTTP client of a
   * qite server (anything that implements {@linkcode QueueLike}).
   */
  queue: QueueLike;
  /**
   * The most jobs running at once.
   *
   * @default {navigator.hardwareConcurrency}
   */
  limit?: number;
  /**
   * The most messages the runner receives ahead of free slots, so that fast jobs need one
   * commit per batch rather than per job. It only holds as many as its recent job durations
   * say will start within about 10 ms. Held messages wait for this runner's slots, with their
   * leases renewed, also when the jobs turn out slower than those durations said (then other
   * runners that are idle do not get them): give 0 where fast and slow jobs share a queue and
   * several runners consume it. On shutdown they are handed back at once without counting as
   * a receive. 0 turns it off.
   *
   * @default {1000}
   */
  prefetch?: number;
  /**
   * The longest wait, in milliseconds, between two looks at an idle queue. Sends in this
   * process and commits from other processes wake the runner sooner.
   *
   * @default {100}
   */
  pollInterval?: number;
  /**
   * How long, in milliseconds, each extension of a running job's message lasts. A lease is
   * renewed when 80 % of it has passed.
   *
   * @default {5000}
   */
  extend?: number;
  /**
   * The default backoff between attempts of a failed job.
   *
   * @default {{ base: 1000, max: 60000, jitter: 0.5 }}
   */
  backoff?: Backoff;
  /**
   * How long, in milliseconds, a shutdown waits for running jobs (whose signals have fired)
   * before it gives up on them: then their leases are no longer renewed, `start()` resolves,
   * and their messages become receivable again when their leases run out. A job given up on
   * still counts against `limit` until it settles, so a runner started again runs that many
   * fewer jobs meanwhile (it is still running in this process).
   *
   * @default {10000}
   */
  gracePeriod?: number;
  /** Where to log; silent by default. */
  logger?: Logger;
  /** Hooks for metrics. */
  hooks?: RunnerHooks;
}

/** Options for {@linkcode Runner.start}. */
export interface StartOptions {
  /**
   * Stops the runner, as {@linkcode Runner.stop} does: it starts no new job, signals and waits
   * for running ones (up to the grace period), then resolves.
   */
  signal?: AbortSignal;
}

/**
 * Thrown by a job to be retried after `delay` milliseconds without the attempt counting as a
 * failure (the message's receive count goes back down).
 *
 * @example Asking to be retried later
 * ```ts
 * import { RetryJob } from "@qite/qite/jobs";
 *
 * function rateLimited(body: Uint8Array): void {
 *   throw new RetryJob(30_000, "the API said 429");
 * }
 * ```
 */
export class RetryJob extends Error {
  /** Milliseconds until the retry. */
  readonly delay: number;

  /**
   * Creates the error a job throws to be retried later.
   *
   * @param delay Milliseconds until the retry.
   * @param message Why.
   * @throws {RangeError} If `delay` is negative or not an integer.
   */
  constructor(delay: number, message = `Retry in ${delay} ms`) {
    checkInteger("retry job", "delay", delay, 0);
    super(message);
    this.name = "RetryJob";
    this.delay = delay;
  }
}

/** A job held by the runner: received, and running or waiting for a free slot. */
interface Held {
  readonly lease: Lease;
  readonly controller: AbortController;
}

interface Registration {
  readonly fn: JobFunction;
  readonly backoff: (attempt: number) => number;
}

/** One `start()` of a runner, until it has stopped. */
interface Run {
  readonly stop: AbortController;
  readonly stopped: Promise<void>;
  readonly leases: Leases;
  readonly acks: Acks;
  /** Set when `start()` is done: jobs that finish later leave their messages alone. */
  over: boolean;
}

/** The longest the receive loop runs without giving the event loop a turn, in milliseconds. */
const MAX_BUSY_MS = 5;

/** The most messages one receive asks for (an HTTP server's batches hold 1000 by default). */
const MAX_RECEIVE = 1000;

/** Prefetched messages should start within about this many milliseconds. */
const PREFETCH_WINDOW_MS = 10;

/** How many times a shutdown tries to delete finished jobs' messages. */
const FINAL_ACK_ATTEMPTS = 3;

const DEFAULT_BACKOFF: Required<BackoffOptions> = { base: 1000, max: 60_000, jitter: 0.5 };

/** The methods a runner calls on its queue. */
const QUEUE_METHODS = [
  "receiveBatch",
  "receiveBatchAndWait",
  "deleteAndReceive",
  "deleteBatch",
  "extend",
  "extendBatch",
  "release",
  "releaseBatch",
  "bury",
] as const;

function toBackoff(action: string, backoff: Backoff): (attempt: number) => number {
  if (typeof backoff === "function") return backoff;
  if (typeof backoff !== "object" || backoff === null) {
    throw new TypeError(
      `Cannot ${action} as 'backoff' must be options or a function: current value is ${
        show(backoff)
      }`,
    );
  }
  const { base, max, jitter } = { ...DEFAULT_BACKOFF, ...backoff };
  checkInteger(action, "backoff.base", base, 0);
  checkInteger(action, "backoff.max", max, 0);
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(
      `Cannot ${action} as 'backoff.jitter' must be a number from 0 to 1: current value is ${
        show(jitter)
      }`,
    );
  }
  return (attempt: number): number => {
    const delay = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
    return Math.round(delay * (1 - jitter * Math.random()));
  };
}

/** The default backoff, as a function (also what a backoff function that fails falls back to). */
const DEFAULT_BACKOFF_FN = toBackoff("use the default backoff", DEFAULT_BACKOFF);

/**
 * Runs named jobs from a queue: at most `limit` at once, with their leases extended while they
 * run, failures retried with exponential backoff until the queue's `maxReceive` (then the
 * message is dead), and a graceful shutdown with a bounded grace period. It receives several
 * messages per call and deletes finished jobs' messages in the same call as its next receive,
 * so it needs far fewer commits than jobs.
 *
 * It works over any {@linkcode QueueLike}: a SQLite `Queue`, a PostgreSQL queue, or an HTTP
 * client of a qite server. Jobs are stored in goqite's format (see `encodeJob`), so Go and
 * TypeScript runners can share a queue.
 *
 * @example Running a job
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import { createJob, Runner } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const queue = new Queue({ db, name: "jobs" });
 * const runner = new Runner({ queue, limit: 4 });
 * const greeted: string[] = [];
 * runner.register("greet", (body) => {
 *   greeted.push(new TextDecoder().decode(body));
 *   void runner.stop(); // stop() resolves once this job has finished
 * });
 *
 * await createJob(queue, "greet", "Yo");
 * await runner.start();
 * assert.deepEqual(greeted, ["Yo"]);
 * ```
 */
export class Runner {
  #queue: QueueLike;
  #limit: number;
  #pollInterval: number;
  #extend: number;
  #gracePeriod: number;
  #backoff: (attempt: number) => number;
  #logger: Logger | undefined;
  #hooks: RunnerHooks;
  #jobs = new Map<string, Registration>();
  #running = new Set<Held>();
  #buffer: Held[] = [];
  #prefetch: number;
  #averageMs: number | undefined;
  #slot: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #run: Run | undefined;

  /**
   * Creates a runner.
   *
   * @param options The queue and the settings.
   * @throws {TypeError} If `queue` is missing, or an option has the wrong type.
   * @throws {RangeError} If a number is out of range.
   */
  constructor(options: RunnerOptions) {
    const action = "create runner";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot ${action} as the options must be an object: current value is ${show(options)}`,
      );
    }
    const {
      queue,
      limit = defaultLimit(),
      prefetch = 1000,
      pollInterval = 100,
      extend = 5000,
      gracePeriod = 10_000,
      backoff = DEFAULT_BACKOFF,
      logger,
      hooks = {},
    } = options;
    if (
      typeof queue !== "object" || queue === null ||
      QUEUE_METHODS.some((method) => typeof queue[method] !== "function")
    ) {
      throw new TypeError(
        `Cannot ${action} as 'queue' must be a queue (a QueueLike: ${
          QUEUE_METHODS.join(", ")
        }): current value is ${show(queue)}`,
      );
    }
    checkInteger(action, "limit", limit, 1);
    checkInteger(action, "prefetch", prefetch, 0);
    checkPositive(action, "pollInterval", pollInterval, 2 ** 31 - 1);
    checkInteger(action, "extend", extend, 1, 2 ** 31 - 1);
    checkInteger(action, "gracePeriod", gracePeriod, 0, 2 ** 31 - 1);
    if (logger !== undefined && typeof logger?.info !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'logger' must have an info() method: current value is ${show(logger)}`,
      );
    }
    if (typeof hooks !== "object" || hooks === null) {
      throw new TypeError(
        `Cannot ${action} as 'hooks' must be an object: current value is ${show(hooks)}`,
      );
    }
    this.#queue = queue;
    this.#limit = limit;
    this.#prefetch = prefetch;
    this.#pollInterval = pollInterval;
    this.#extend = extend;
    this.#gracePeriod = gracePeriod;
    this.#backoff = toBackoff(action, backoff);
    this.#logger = logger;
    this.#hooks = hooks;
  }

  /** How many jobs are running now. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Registers a job function under a name.
   *
   * @param name The job's name.
   * @param fn The job.
   * @param options This job's backoff.
   * @throws {TypeError} If the name is empty or already registered, or `fn` is not a function.
   *
   * @example Registering with a backoff of its own
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import { Runner } from "@qite/qite/jobs";
   *
   * using db = open(":memory:");
   * setup(db);
   * const runner = new Runner({ queue: new Queue({ db, name: "jobs" }) });
   * runner.register("charge-card", () => {}, { backoff: { base: 10_000, max: 600_000 } });
   * ```
   */
  register(name: string, fn: JobFunction, options: RegisterOptions = {}): void {
    const action = "register job";
    checkName(action, "name", name);
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'fn' must be a function: current value is ${show(fn)}`,
      );
    }
    if (this.#jobs.has(name)) {
      throw new TypeError(`Cannot ${action} as the name ${JSON.stringify(name)} is registered`);
    }
    this.#jobs.set(name, {
      fn,
      backoff: options.backoff === undefined ? this.#backoff : toBackoff(action, options.backoff),
    });
  }

  /**
   * Runs jobs until `signal` aborts or {@linkcode Runner.stop} is called; then starts no new
   * job, hands back the messages it held but had not started (uncounted), fires the running
   * jobs' signals and waits for them up to the grace period, deletes the finished jobs'
   * messages, and resolves. Nothing (timer, listener) is left behind.
   *
   * @param options The stop signal.
   * @returns A promise that resolves once stopped.
   * @throws {TypeError} If the runner is already running.
   * @throws {QueueError} If the queue is closed while running, or cannot serve the runner (an
   * HTTP client whose server refuses its requests with a 4xx, such as goqite's handler, which
   * has no batch routes: checked with a peek before the first receive, so no job runs), after
   * the shutdown above. Other failures to receive are logged and tried again.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#run !== undefined) {
      throw new TypeError("Cannot start runner as it is already running");
    }
    const { signal } = options;
    checkSignal("start runner", signal);
    const stop = new AbortController();
    let finished!: () => void;
    const run: Run = {
      stop,
      stopped: new Promise<void>((resolve) => finished = resolve),
      leases: new Leases(
        this.#queue,
        this.#extend,
        (lease) => this.#lost(lease),
        (error) => this.#log("Cannot extend running jobs' leases", { error: describe(error) }),
      ),
      acks: new Acks(
        this.#queue,
        (messages, deleted) => this.#reportAcks(messages, deleted),
        (error, count) =>
          this.#log("Cannot delete finished jobs' messages; trying again", {
            error: describe(error),
            count,
          }),
      ),
      over: false,
    };
    this.#run = run;
    const onAbort = (): void => stop.abort(signal?.reason);
    // On shutdown, running jobs see it through their signals, and a loop waiting for a free
    // slot stops waiting.
    stop.signal.addEventListener("abort", () => {
      for (const job of this.#running) job.controller.abort(stop.signal.reason);
      this.#slot?.();
    }, { once: true });
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    this.#log("Starting runner", { queue: this.#queue.name, jobs: [...this.#jobs.keys()] });
    let fatal: unknown;
    try {
      fatal = await this.#loop(run);
    } catch (error) {
      fatal = error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!stop.signal.aborted) stop.abort(fatal);
      await this.#shutdown(run);
      this.#run = undefined;
      finished();
      this.#log("Stopped runner", { queue: this.#queue.name });
    }
    if (fatal !== undefined) throw fatal;
  }

  /**
   * Stops the runner as its start signal would, and resolves once `start()` has finished (it
   * never rejects: `start()` reports failures). Does nothing if it is not running.
   *
   * @returns A promise that resolves once stopped.
   *
   * @example Stopping from the outside
   * ```ts
   * import { open, Queue, setup } from "@qite/qite";
   * import { Runner } from "@qite/qite/jobs";
   *
   * using db = open(":memory:");
   * setup(db);
   * const runner = new Runner({ queue: new Queue({ db, name: "jobs" }) });
   * const running = runner.start();
   * await runner.stop();
   * await running;
   * ```
   */
  stop(): Promise<void> {
    const run = this.#run;
    if (run === undefined) return Promise.resolve();
    run.stop.abort();
    return run.stopped;
  }

  /** Stops the runner, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** The receive loop; returns a fatal error, or undefined when stopped. */
  async #loop(run: Run): Promise<unknown> {
    const stop = run.stop.signal;
    let yielded = performance.now();
    let served = false;
    while (!stop.aborted) {
      if (performance.now() - yielded > MAX_BUSY_MS) {
        // With a full queue, fast jobs and a free slot, every await above may be settled by
        // microtasks alone, which never let timers and I/O run: give them a turn.
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        yielded = performance.now();
        continue;
      }
      if (this.#queue.closed) {
        return new QueueError("CLOSED", "Cannot receive jobs as the queue is closed");
      }
      while (this.#running.size < this.#limit && this.#buffer.length > 0) {
        this.#start(this.#buffer.shift()!, run);
      }
      const free = this.#limit - this.#running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.#slot = resolve);
        this.#slot = undefined;
        continue;
      }
      let messages: Message[];
      let since = performance.now();
      try {
        if (!served) {
          // Before the first receive: a queue that cannot serve the runner's batch calls (an
          // HTTP client of goqite's own handler) must fail here, not after a job ran that it
          // cannot delete. A peek is a qite-only request, as the batch calls are.
          await this.#queue.peek(SERVES_PROBE);
          served = true;
        }
        messages = await this.#receive(run, Math.min(free + this.#prefetchTarget(), MAX_RECEIVE));
        if (messages.length === 0 && !stop.aborted) {
          since = performance.now();
          messages = await this.#queue.receiveBatchAndWait(free, {
            signal: stop,
            interval: this.#pollInterval,
          });
        }
      } catch (error) {
        if (stop.aborted) break;
        if (isFatal(error)) return error;
        this.#log("Cannot receive jobs", { queue: this.#queue.name, error: describe(error) });
        await sleep(this.#pollInterval, stop);
        continue;
      }
      for (const lease of run.leases.add(messages, since, this.#queue.timeout)) {
        this.#buffer.push({ lease, controller: new AbortController() });
      }
    }
    return undefined;
  }

  /** Receives up to `max` messages, deleting finished jobs' messages in the same call. */
  async #receive(run: Run, max: number): Promise<Message[]> {
    const acks = run.acks.take();
    if (acks.length === 0) return await this.#queue.receiveBatch(max);
    let result;
    try {
      result = await this.#queue.deleteAndReceive(acks, max);
    } catch (error) {
      run.acks.restore(acks, error);
      throw error;
    }
    run.acks.settle(acks, result.deleted);
    return result.messages;
  }

  /** Hands back what was held, waits for running jobs (up to the grace period), acks. */
  async #shutdown(run: Run): Promise<void> {
    const deadline = performance.now() + this.#gracePeriod;
    const held = this.#buffer.splice(0);
    for (const job of held) run.leases.remove(job.lease);
    const handBack = held.filter((job) => !job.lease.lost).map((job) => job.lease.message);
    if (handBack.length > 0 && !this.#queue.closed) {
      await this.#safely(() => this.#queue.releaseBatch(handBack, 0));
    }
    if (this.#running.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idle = resolve),
        new Promise<void>((resolve) => timer = setTimeout(resolve, this.#gracePeriod)),
      ]);
      clearTimeout(timer);
      this.#idle = undefined;
      if (this.#running.size > 0) {
        this.#log("Gave up waiting for running jobs; their messages are received again later", {
          queue: this.#queue.name,
          count: this.#running.size,
        });
      }
    }
    run.leases.stop();
    await Promise.all(this.#settling);
    for (let attempt = 0; attempt < FINAL_ACK_ATTEMPTS && run.acks.size > 0; attempt++) {
      if (this.#queue.closed) break;
      if (attempt > 0) {
        await sleep(Math.min(100, Math.max(0, deadline - performance.now())), undefined);
      }
      await run.acks.flush();
    }
    run.acks.stop();
    if (run.acks.size > 0) {
      this.#log("Cannot delete finished jobs' messages; they will run again", {
        queue: this.#queue.name,
        count: run.acks.size,
      });
    }
    run.over = true;
  }

  /** How many messages to hold ahead: those that recent durations say start within 10 ms. */
  #prefetchTarget(): number {
    if (this.#prefetch === 0 || this.#averageMs === undefined) return 0;
    const ahead = Math.floor(this.#limit * PREFETCH_WINDOW_MS / Math.max(this.#averageMs, 1e-3));
    return Math.min(this.#prefetch, ahead);
  }

  #start(held: Held, run: Run): void {
    const { lease } = held;
    const message = lease.message;
    if (lease.lost) return; // its lease ran out while it waited; someone else may have it
    let envelope: { name: string; body: Uint8Array };
    try {
      envelope = decodeJob(message.body);
    } catch (error) {
      run.leases.remove(lease);
      this.#log("Cannot decode job; it is dead now", { id: message.id, error: describe(error) });
      this.#settle(() => this.#queue.bury(message));
      return;
    }
    const registration = this.#jobs.get(envelope.name);
    if (registration === undefined) {
      run.leases.remove(lease);
      this.#log("Job is not registered; leaving it for a runner that has it", {
        id: message.id,
        name: envelope.name,
      });
      // Not counted as a receive: a deploy that registers the job will run it.
      this.#settle(() => this.#queue.release(message, this.#queue.timeout));
      return;
    }
    this.#running.add(held);
    const event: JobEvent = { id: message.id, name: envelope.name, attempt: message.received };
    this.#hook("run", event);
    const started = performance.now();
    // Once only: a thenable may call both of its callbacks, or one twice, or throw after one.
    let finished = false;
    const finish = (ok: boolean, error?: unknown): void => {
      if (finished) return;
      finished = true;
      this.#finish(held, event, registration, started, ok, error, run);
    };
    try {
      const result = registration.fn(envelope.body, { ...event, signal: held.controller.signal });
      // A thenable's `then` (or the getter of it) is the job's code too: what it throws fails
      // the job.
      if (isThenable(result)) {
        (result as PromiseLike<unknown>).then(
          () => finish(true),
          (error: unknown) => finish(false, error),
        );
      } else finish(true);
    } catch (error) {
      finish(false, error);
    }
  }

  #finish(
    held: Held,
    job: JobEvent,
    registration: Registration,
    started: number,
    ok: boolean,
    error: unknown,
    run: Run,
  ): void {
    this.#running.delete(held);
    run.leases.remove(held.lease);
    const duration = performance.now() - started;
    const message = held.lease.message;
    const event = { ...job, duration };
    if (run.over) {
      // start() has resolved: the queue may be closed; the message will be received again. The
      // slot it held is free again, for a run started since.
      this.#log("Job finished after the runner stopped waiting for it", event);
      this.#slot?.();
      if (this.#running.size === 0) this.#idle?.();
      return;
    }
    this.#averageMs = this.#averageMs === undefined
      ? duration
      : this.#averageMs * 0.9 + duration * 0.1;
    const stop = run.stop.signal;
    if (ok) {
      this.#log("Ran job", event);
      this.#hook("success", event);
      run.acks.push(message);
    } else if (error instanceof RetryJob) {
      this.#log("Job asked to be retried", { ...event, retryIn: error.delay });
      this.#settle(() => this.#queue.release(message, error.delay));
    } else if (stop.aborted && (error === stop.reason || isAbortError(error))) {
      // Stopped by the shutdown: hand it back at once, not counted as a failure.
      this.#log("Job stopped by shutdown; handing it back", event);
      this.#settle(() => this.#queue.release(message, 0));
    } else {
      const dead = message.received >= this.#queue.maxReceive;
      const retryIn = dead ? undefined : this.#retryIn(registration, message.received);
      this.#log(dead ? "Job failed; it is dead now" : "Job failed; retrying", {
        ...event,
        error: describe(error),
        retryIn,
      });
      this.#hook("failure", { ...event, error, retryIn });
      this.#settle(() => dead ? this.#queue.bury(message) : this.#queue.extend(message, retryIn!));
    }
    this.#slot?.();
    if (this.#running.size === 0) this.#idle?.();
  }

  /**
   * The delay before a failed job's next attempt, in whole ms: the registration's backoff, or
   * the default one when that throws or gives no finite number (a job's failure must not stop
   * the runner).
   */
  #retryIn(registration: Registration, attempt: number): number {
    let ms: number;
    try {
      ms = registration.backoff(attempt);
    } catch (error) {
      this.#log("The backoff function threw; using the default backoff", {
        error: describe(error),
      });
      ms = NaN;
    }
    if (typeof ms !== "number" || !Number.isFinite(ms)) ms = DEFAULT_BACKOFF_FN(attempt);
    return Math.min(MAX_DURATION_MS, Math.max(0, Math.ceil(ms)));
  }

  #reportAcks(messages: readonly Message[], deleted: readonly boolean[]): void {
    messages.forEach((message, i) => {
      if (!deleted[i]) {
        this.#log("Job finished after its lease was lost; it may run again", { id: message.id });
      }
    });
  }

  /** A lease was lost: the job's signal fires; a held job will not start. */
  #lost(lease: Lease): void {
    this.#log("Lost a job's lease", { id: lease.message.id });
    for (const job of [...this.#running, ...this.#buffer]) {
      if (job.lease === lease) {
        job.controller.abort(
          new QueueError(
            "LEASE_LOST",
            `Cannot keep job ${lease.message.id} as its lease was lost: another consumer may ` +
              "have it",
          ),
        );
      }
    }
  }

  /** Jobs' outcomes on their way to the queue, which `start()` waits for before it resolves. */
  #settling = new Set<Promise<void>>();

  /**
   * Sends a job's outcome (a release, a bury, an extension) to the queue without holding up the
   * job's slot; the shutdown waits for it, so that `start()` resolves with every outcome
   * written (the queue may be remote, as PostgreSQL or HTTP).
   */
  #settle(fn: () => Promise<unknown>): void {
    const done = this.#safely(fn).finally(() => this.#settling.delete(done));
    this.#settling.add(done);
  }

  async #safely(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.#log("Cannot update a job's message", { error: describe(error) });
    }
  }

  #hook<K extends keyof RunnerHooks>(
    name: K,
    event: Parameters<NonNullable<RunnerHooks[K]>>[0],
  ): void {
    const hook = this.#hooks[name] as ((event: unknown) => void) | undefined;
    if (hook === undefined) return;
    try {
      hook.call(this.#hooks, event);
    } catch (error) {
      this.#log(`The ${name} hook threw`, { error: describe(error) });
    }
  }

  #log(message: string, fields: Record<string, unknown>): void {
    log(this.#logger, message, fields);
  }
}

/** The peek that checks, once per start, that the queue serves what a runner needs. */
const SERVES_PROBE = { limit: 1, bodyBytes: 0 } as const;

/**
 * Whether a receive's failure ends the runner instead of being tried again: the queue is closed,
 * cannot do what the runner needs (`UNSUPPORTED`: an HTTP client of goqite's handler), or its
 * server refused the request itself (a 4xx other than 408 and 429: not found, not authorized).
 */
function isFatal(error: unknown): boolean {
  if (!(error instanceof QueueError)) return false;
  if (error.code === "CLOSED" || error.code === "UNSUPPORTED") return true;
  const status = (error as { status?: unknown }).status;
  return error.code === "HTTP" && typeof status === "number" && status >= 400 && status < 500 &&
    status !== 408 && status !== 429;
}

function defaultLimit(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return typeof cores === "number" && cores >= 1 ? Math.floor(cores) : 1;
}

function isThenable(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
