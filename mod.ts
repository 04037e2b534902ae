/**
 * qite: a persistent message queue on SQLite, in the manner of AWS SQS, for Deno, Bun and Node.
 * A port of the Go library goqite, sharing its table, so a Go service and a TypeScript service
 * can use one database file.
 *
 * It runs on the runtime's built-in SQLite (`bun:sqlite` on Bun, `node:sqlite` on Deno and
 * Node ≥ 22.13) or on a `@db/sqlite` connection you hand it, with no dependencies.
 *
 * @example Send, receive, delete
 * ```ts
 * import { open, Queue, setup } from "@qite/qite";
 * import assert from "node:assert/strict";
 *
 * using db = open(":memory:");
 * setup(db);
 * const queue = new Queue({ db, name: "greetings" });
 *
 * await queue.send({ body: "hello" });
 * const message = await queue.receive();
 * assert.ok(message);
 * assert.equal(new TextDecoder().decode(message.body), "hello");
 * await queue.delete(message);
 * ```
 *
 * @module
 */

export {
  Database,
  open,
  type OpenOptions,
  type SqliteHandle,
  type Statement,
  type Synchronous,
} from "./src/sqlite/database.ts";
export { QueueError, type QueueErrorCode, type QueueErrorOptions } from "./src/errors.ts";
export { listQueues } from "./src/sqlite/list_queues.ts";
export type { Logger } from "./src/logger.ts";
export type {
  DeadPage,
  Message,
  MessageId,
  MessageInfo,
  Priority,
  QueueStats,
  Receipt,
  SendMessage,
} from "./src/message.ts";
export type {
  DeleteAndReceiveResult,
  ListDeadOptions,
  PeekOptions,
  PeekState,
  QueueLike,
  ReceiveAndWaitOptions,
} from "./src/queue_like.ts";
export { Queue, type QueueOptions, type QueueTransaction } from "./src/sqlite/queue.ts";
export { GOQITE_SCHEMA, QITE_INDEXES, SCHEMA, setup } from "./src/sqlite/schema.ts";
export type { Bindable, DriverName, Row } from "./src/runtime/types.ts";
