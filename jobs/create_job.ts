/**
 * Creating jobs: a message whose body is the job in goqite's format (see
 * {@linkcode encodeJob}).
 *
 * @module
 */

import type { Priority, SendMessage } from "../src/message.ts";
import { Queue } from "../src/sqlite/queue.ts";
import { show } from "../src/_validate.ts";
import { encodeJob } from "./envelope.ts";

/** Options for {@linkcode createJob}. */
export interface CreateJobOptions {
  /**
   * How long, in milliseconds, before the job may run.
   *
   * @default {0}
   */
  delay?: number;
  /**
   * Higher runs first.
   *
   * @default {0}
   */
  priority?: Priority;
}

/**
 * Where a job can be created: anything that sends a message, such as a queue (a SQLite
 * `Queue`, a PostgreSQL queue, an HTTP client: `send` returns a promise) or a transaction on one
 * (SQLite's `QueueTransaction`: `send` returns the id at once).
 *
 * @typeParam R What `send` returns.
 */
export interface JobTarget<R> {
  /** Sends a message. */
  send(message: SendMessage): R;
}

/**
 * Creates a job: sends a message to `queue` whose body is the job's name and body in goqite's
 * gob format (see {@linkcode encodeJob}), so a goqite runner can run it too. `queue` is any
 * queue (SQLite, PostgreSQL, or an HTTP client), or a transaction on one: given a SQLite
 * {@linkcode QueueTransaction}, it sends inside that transaction and returns the id at once;
 * given a PostgreSQL queue's `queue.with(tx)`, it sends inside your PostgreSQL transaction. Either
 * way the job commits or rolls back with your own writes.
 *
 * @typeParam R What the target's `send` returns: a promise of the id for a queue, the id for a
 * SQLite transaction.
 * @param queue The queue a {@linkcode Runner} reads, or a transaction on it.
 * @param name The job's name, as registered with {@linkcode Runner.register}.
 * @param body The job's body: bytes, or a string stored as UTF-8.
 * @param options A delay and a priority.
 * @returns The message id, or a promise of it (`undefined` from a server that does not say it).
 * @throws {TypeError} If `name` or `body` is invalid.
 * @throws {RangeError} If `delay` or `priority` is out of range.
 * @throws {QueueError} If the queue is closed or its database fails. A queue's misuse and
 * failures come as a rejected promise.
 *
 * @example Creating a job, and one inside a transaction
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import { createJob, decodeJob } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * db.exec("create table signups (email text)");
 * const queue = new Queue({ db, name: "jobs" });
 *
 * const id = await createJob(queue, "send-welcome", "alice@example.com", { priority: 1 });
 * assert.match(id, /^m_/);
 *
 * queue.transaction((tx) => {
 *   db.prepare("insert into signups (email) values (?)").run("bob@example.com");
 *   createJob(tx, "send-welcome", "bob@example.com");
 * });
 *
 * // The message body is the job in goqite's gob format.
 * const message = await queue.receive();
 * const job = decodeJob(message!.body);
 * assert.equal(job.name, "send-welcome");
 * assert.equal(new TextDecoder().decode(job.body), "alice@example.com");
 * ```
 */
export function createJob<R>(
  queue: JobTarget<R>,
  name: string,
  body: Uint8Array | string,
  options: CreateJobOptions = {},
): R {
  const sqliteTransaction = typeof queue === "object" && queue !== null &&
    (queue as { queue?: unknown }).queue instanceof Queue;
  try {
    if (typeof (queue as Partial<JobTarget<R>>)?.send !== "function") {
      throw new TypeError(
        `Cannot create job as 'queue' must be a queue or a transaction on one (with send()): ` +
          `current value is ${show(queue)}`,
      );
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot create job as 'options' must be an object: current value is ${show(options)}`,
      );
    }
    return queue.send({
      body: encodeJob(name, body),
      delay: options.delay ?? 0,
      priority: options.priority ?? 0,
    });
  } catch (error) {
    // A queue's operations (and a PostgreSQL transaction's) report misuse as a rejection; a
    // SQLite transaction's, which are synchronous, throw it.
    if (!sqliteTransaction) return Promise.reject(error) as R;
    throw error;
  }
}
