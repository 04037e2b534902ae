/**
 * Jobs on a qite queue: goqite's job runner, made robust. Named jobs, a concurrency limit,
 * leases extended while jobs run, retries with exponential backoff and jitter until the queue's
 * `maxReceive` (then the message is dead), unregistered or undecodable jobs that never crash the
 * runner, hooks for metrics, and a graceful shutdown.
 *
 * A job is a message whose body is goqite's job format: the Go `encoding/gob` stream of a
 * struct with the job's `Name` and its body as `Message`, so jobs flow both ways between goqite
 * and qite on one queue. Jobs in the JSON envelope of earlier qite versions still run (see
 * {@linkcode encodeJob} and {@linkcode decodeJob}).
 *
 * @example A runner
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import { createJob, Runner } from "@qite/qite/jobs";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const queue = new Queue({ db, name: "jobs" });
 * const runner = new Runner({ queue });
 * const controller = new AbortController();
 * let printed = "";
 * runner.register("print", (body) => {
 *   printed = new TextDecoder().decode(body);
 *   controller.abort();
 * });
 * await createJob(queue, "print", "Yo");
 * await runner.start({ signal: controller.signal });
 * assert.equal(printed, "Yo");
 * ```
 *
 * @module
 */

export { createJob, type CreateJobOptions, type JobTarget } from "./create_job.ts";
export { decodeJob, encodeJob, type JobEnvelope } from "./envelope.ts";
export {
  type Backoff,
  type BackoffOptions,
  type JobContext,
  type JobEvent,
  type JobFailureEvent,
  type JobFunction,
  type JobSuccessEvent,
  type Logger,
  type RegisterOptions,
  RetryJob,
  Runner,
  type RunnerHooks,
  type RunnerOptions,
  type StartOptions,
} from "./runner.ts";
