/**
 * The job runner: goqite's runner, made robust and fast.
 *
 * @module
 */

import type { Message, MessageId } from "../src/message.ts";
import { type Queue, queueOps } from "../src/sqlite/queue.ts";
import { QueueError } from "../src/errors.ts";
import type { QueueOps } from "../src/sqlite/_ops.ts";
import { checkInteger, checkName, checkPositive, checkSignal, show } from "../src/_validate.ts";
import { decodeJob } from "./envelope.ts";
import { describeError as describe, log, type Logger } from "../src/logger.ts";

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
   * extend it in time, and another consumer may have it now). Pass it to your I/O.
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
  /** The queue to take jobs from. */
  queue: Queue;
  /**
   * The most jobs running at once.
   *
   * @default {navigator.hardwareConcurrency}
   */
  limit?: number;
  /**
   * The most messages the runner receives ahead of free slots, so that fast jobs need one
   * commit per batch rather than per job. It only holds as many as its recent job durations
   * say will start within about 10 ms, so slow jobs are not held back from other runners;
   * held messages have their leases renewed, and on shutdown they are handed back at once
   * without counting as a receive. 0 turns it off.
   *
   * @default {100}
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
  /** Where to log; silent by default. */
  logger?: Logger;
  /** Hooks for metrics. */
  hooks?: RunnerHooks;
}

/** Options for {@linkcode Runner.start}. */
export interface StartOptions {
  /** Stops the runner: it starts no new job, waits for running ones, then resolves. */
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

/** A job that is running. */
interface Running {
  readonly message: Message;
  readonly name: string;
  readonly controller: AbortController;
  /** When to renew the lease (ms since the epoch). */
  renewAt: number;
  /** Whether the lease was lost. */
  lost: boolean;
}

interface Registration {
  readonly fn: JobFunction;
  readonly backoff: (attempt: number) => number;
}

/** The longest the receive loop runs without giving the event loop a turn, in milliseconds. */
const MAX_BUSY_MS = 5;

/** Prefetched messages should start within about this many milliseconds. */
const PREFETCH_WINDOW_MS = 10;

const DEFAULT_BACKOFF: Required<BackoffOptions> = { base: 1000, max: 60_000, jitter: 0.5 };

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

/**
 * Runs named jobs from a queue: at most `limit` at once, with their leases extended while they
 * run, failures retried with exponential backoff until the queue's `maxReceive` (then the
 * message is dead), and a graceful shutdown. It receives several messages per statement and
 * deletes finished jobs' messages in small batches, in the same transaction as the next
 * receive, so it needs far fewer commits than jobs.
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
 * const controller = new AbortController();
 * const greeted: string[] = [];
 * runner.register("greet", (body) => {
 *   greeted.push(new TextDecoder().decode(body));
 *   controller.abort();
 * });
 *
 * await createJob(queue, "greet", "Yo");
 * await runner.start({ signal: controller.signal });
 * assert.deepEqual(greeted, ["Yo"]);
 * ```
 */
export class Runner {
  #queue: Queue;
  #limit: number;
  #pollInterval: number;
  #extend: number;
  #backoff: (attempt: number) => number;
  #logger: Logger | undefined;
  #hooks: RunnerHooks;
  #jobs = new Map<string, Registration>();
  #running = new Set<Running>();
  #buffer: Running[] = [];
  #prefetch: number;
  #averageMs: number | undefined;
  #acks: Message[] = [];
  #ackTimer: ReturnType<typeof setImmediate> | undefined;
  #slot: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #renewAt = Infinity;
  #started = false;
  #ops: QueueOps | undefined;

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
      prefetch = 100,
      pollInterval = 100,
      extend = 5000,
      backoff = DEFAULT_BACKOFF,
      logger,
      hooks = {},
    } = options;
    if (typeof queue !== "object" || queue === null || typeof queue.receiveBatch !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'queue' must be a Queue: current value is ${show(queue)}`,
      );
    }
    checkInteger(action, "limit", limit, 1);
    checkInteger(action, "prefetch", prefetch, 0);
    checkPositive(action, "pollInterval", pollInterval, 2 ** 31 - 1);
    checkInteger(action, "extend", extend, 1, 2 ** 31 - 1);
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
   * Runs jobs until `signal` aborts; then starts no new job, waits for the running ones,
   * acknowledges them, and resolves. Jobs see the abort through their own signal. Nothing
   * (timer, listener) is left behind.
   *
   * @param options The stop signal.
   * @returns A promise that resolves once stopped.
   * @throws {TypeError} If the runner is already running.
   * @throws {QueueError} If the queue is closed while running (after running jobs finish).
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#started) throw new TypeError("Cannot start runner as it is already running");
    const { signal } = options;
    checkSignal("start runner", signal);
    this.#started = true;
    const stop = new AbortController();
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
      this.#ops = queueOps(this.#queue);
      fatal = await this.#loop(stop.signal);
    } catch (error) {
      fatal = error;
    } finally {
      if (!stop.signal.aborted) stop.abort(fatal);
      const held = this.#buffer.splice(0).filter((job) => !job.lost).map((job) => job.message);
      if (held.length > 0) this.#safely(() => this.#ops!.release(held, 0));
      if (this.#running.size > 0) await new Promise<void>((resolve) => this.#idle = resolve);
      if (this.#ackTimer !== undefined) clearImmediate(this.#ackTimer);
      this.#ackTimer = undefined;
      this.#flushAcks();
      if (this.#renewTimer !== undefined) clearTimeout(this.#renewTimer);
      this.#renewTimer = undefined;
      this.#renewAt = Infinity;
      signal?.removeEventListener("abort", onAbort);
      this.#started = false;
      this.#log("Stopped runner", { queue: this.#queue.name });
    }
    if (fatal !== undefined) throw fatal;
  }

  /** The receive loop; returns a fatal error, or undefined when stopped by the signal. */
  async #loop(stop: AbortSignal): Promise<unknown> {
    let yielded = performance.now();
    while (!stop.aborted) {
      if (performance.now() - yielded > MAX_BUSY_MS) {
        // With a full queue, fast jobs and a free slot, every await above may be settled by
        // microtasks alone, which never let timers and I/O run: give them a turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
        yielded = performance.now();
        continue;
      }
      while (this.#running.size < this.#limit && this.#buffer.length > 0) {
        this.#start(this.#buffer.shift()!, stop);
      }
      const free = this.#limit - this.#running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.#slot = resolve);
        this.#slot = undefined;
        continue;
      }
      let messages: Message[];
      try {
        messages = this.#ackAndReceive(free + this.#prefetchTarget());
        if (messages.length === 0) {
          messages = await this.#queue.receiveBatchAndWait(free, {
            signal: stop,
            interval: this.#pollInterval,
          });
        }
      } catch (error) {
        if (stop.aborted) break;
        if (error instanceof QueueError && error.code === "CLOSED") return error;
        this.#log("Cannot receive jobs", { queue: this.#queue.name, error: describe(error) });
        await sleep(this.#pollInterval, stop);
        continue;
      }
      const renewAt = Date.now() + 0.8 * this.#queue.timeout;
      for (const message of messages) {
        this.#buffer.push({
          message,
          name: "",
          controller: new AbortController(),
          renewAt,
          lost: false,
        });
      }
      if (messages.length > 0) this.#scheduleRenewal(renewAt);
    }
    return undefined;
  }

  /** How many messages to hold ahead: those that recent durations say start within 10 ms. */
  #prefetchTarget(): number {
    if (this.#prefetch === 0 || this.#averageMs === undefined) return 0;
    const ahead = Math.floor(this.#limit * PREFETCH_WINDOW_MS / Math.max(this.#averageMs, 1e-3));
    return Math.min(this.#prefetch, ahead);
  }

  /** Deletes finished jobs' messages and receives up to `max`, in one transaction. */
  #ackAndReceive(max: number): Message[] {
    const ops = this.#ops!;
    if (this.#acks.length === 0) return ops.receive(max);
    const acks = this.#takeAcks();
    try {
      return ops.db.transaction(() => {
        this.#reportAcks(acks, ops.delete(acks));
        return ops.receive(max);
      });
    } catch (error) {
      this.#acks.push(...acks); // nothing was deleted; try again
      throw error;
    }
  }

  #start(held: Running, stop: AbortSignal): void {
    const { message } = held;
    if (held.lost) return; // its lease ran out while it waited; someone else has it
    let envelope: { name: string; body: Uint8Array };
    try {
      envelope = decodeJob(message.body);
    } catch (error) {
      this.#log("Cannot decode job; it is dead now", { id: message.id, error: describe(error) });
      this.#safely(() => this.#ops!.kill([message]));
      return;
    }
    const registration = this.#jobs.get(envelope.name);
    if (registration === undefined) {
      this.#log("Job is not registered; leaving it for a runner that has it", {
        id: message.id,
        name: envelope.name,
      });
      // Not counted as a receive: a deploy that registers the job will run it.
      this.#safely(() => this.#ops!.release([message], this.#queue.timeout));
      return;
    }
    const job: Running = { ...held, name: envelope.name };
    this.#running.add(job);
    const event: JobEvent = { id: message.id, name: job.name, attempt: message.received };
    this.#hook("run", event);
    const started = performance.now();
    let result: unknown;
    try {
      result = registration.fn(envelope.body, { ...event, signal: job.controller.signal });
    } catch (error) {
      this.#finish(job, registration, started, false, error, stop);
      return;
    }
    if (isThenable(result)) {
      (result as Promise<unknown>).then(
        () => this.#finish(job, registration, started, true, undefined, stop),
        (error: unknown) => this.#finish(job, registration, started, false, error, stop),
      );
    } else this.#finish(job, registration, started, true, undefined, stop);
  }

  #finish(
    job: Running,
    registration: Registration,
    started: number,
    ok: boolean,
    error: unknown,
    stop: AbortSignal,
  ): void {
    this.#running.delete(job);
    const duration = performance.now() - started;
    this.#averageMs = this.#averageMs === undefined
      ? duration
      : this.#averageMs * 0.9 + duration * 0.1;
    const { message, name } = job;
    const event = { id: message.id, name, attempt: message.received, duration };
    if (ok) {
      this.#log("Ran job", event);
      this.#hook("success", event);
      this.#acks.push(message);
      this.#scheduleAck();
    } else if (error instanceof RetryJob) {
      this.#log("Job asked to be retried", { ...event, retryIn: error.delay });
      this.#safely(() => this.#ops!.release([message], error.delay));
    } else if (stop.aborted && (error === stop.reason || isAbortError(error))) {
      // Stopped by the shutdown: hand it back at once, not counted as a failure.
      this.#log("Job stopped by shutdown; handing it back", event);
      this.#safely(() => this.#ops!.release([message], 0));
    } else {
      const dead = message.received >= this.#queue.maxReceive;
      const retryIn = dead ? undefined : Math.max(0, registration.backoff(message.received));
      this.#log(dead ? "Job failed; it is dead now" : "Job failed; retrying", {
        ...event,
        error: describe(error),
        retryIn,
      });
      this.#hook("failure", { ...event, error, retryIn });
      this.#safely(() =>
        dead ? this.#ops!.kill([message]) : this.#ops!.extend([message], retryIn!)
      );
    }
    this.#slot?.();
    if (this.#running.size === 0) this.#idle?.();
  }

  #scheduleAck(): void {
    if (this.#ackTimer !== undefined) return;
    // The receive loop usually takes the acks first, in its next transaction; this catches
    // the rest within a turn of the event loop.
    this.#ackTimer = setImmediate(() => {
      this.#ackTimer = undefined;
      this.#flushAcks();
    });
  }

  #takeAcks(): Message[] {
    const acks = this.#acks;
    this.#acks = [];
    return acks;
  }

  #flushAcks(): void {
    if (this.#acks.length === 0 || this.#ops === undefined) return;
    const acks = this.#takeAcks();
    try {
      this.#reportAcks(acks, this.#ops.delete(acks));
    } catch (error) {
      this.#log("Cannot delete finished jobs' messages; they will run again", {
        error: describe(error),
        count: acks.length,
      });
    }
  }

  #reportAcks(acks: readonly Message[], deleted: readonly boolean[]): void {
    for (let i = 0; i < acks.length; i++) {
      if (!deleted[i]) {
        this.#log("Job finished after its lease was lost; it may run again", {
          id: acks[i]!.id,
        });
      }
    }
  }

  #scheduleRenewal(at: number): void {
    if (at >= this.#renewAt) return;
    if (this.#renewTimer !== undefined) clearTimeout(this.#renewTimer);
    this.#renewAt = at;
    this.#renewTimer = setTimeout(() => this.#renew(), Math.max(0, at - Date.now()));
  }

  /** Extends the leases of running jobs that are due, and aborts those whose lease is lost. */
  #renew(): void {
    this.#renewTimer = undefined;
    this.#renewAt = Infinity;
    const now = Date.now();
    const due = [...this.#running, ...this.#buffer].filter((job) =>
      !job.lost && job.renewAt <= now + 10
    );
    if (due.length > 0) {
      let extended: boolean[] = [];
      try {
        extended = this.#ops!.extend(due.map((job) => job.message), this.#extend);
      } catch (error) {
        this.#log("Cannot extend running jobs' leases", { error: describe(error) });
      }
      due.forEach((job, i) => {
        if (extended[i]) job.renewAt = now + 0.8 * this.#extend;
        else if (extended.length > 0) {
          job.lost = true;
          this.#log("Lost a job's lease", { id: job.message.id });
          job.controller.abort(
            new QueueError("CLOSED", `Cannot keep job ${job.message.id} as its lease was lost`),
          );
        } else job.renewAt = now + 100; // the extend failed: try again soon
      });
    }
    let next = Infinity;
    for (const job of this.#running) if (!job.lost && job.renewAt < next) next = job.renewAt;
    for (const job of this.#buffer) if (!job.lost && job.renewAt < next) next = job.renewAt;
    if (next !== Infinity) this.#scheduleRenewal(next);
  }

  #safely(fn: () => unknown): void {
    try {
      fn();
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
