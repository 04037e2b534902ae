/**
 * qite on PostgreSQL: the same queue, job runner and server as on SQLite, for when one SQLite
 * file is not enough (several machines, one queue). It shares goqite's PostgreSQL table, so Go
 * services using goqite and TypeScript services using qite can share one queue.
 *
 * Bring your own client: a postgres.js `sql` (the npm package `postgres`, on Deno, Bun and
 * Node) or Bun's built-in `Bun.sql`. qite imports neither; it recognises which one it was given.
 * It needs PostgreSQL 14 or later.
 *
 * @example Send, receive, delete
 * ```ts
 * import postgres from "postgres";
 * import { PostgresQueue, setup } from "@qite/qite/postgres";
 * import assert from "node:assert/strict";
 *
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
 * await sql.unsafe("drop schema if exists qite_doc_mod cascade"); // left by a run that was cut short
 * await setup(sql, { schema: "qite_doc_mod" });
 * const queue = new PostgresQueue({ sql, schema: "qite_doc_mod", name: "greetings" });
 * try {
 *   await queue.send({ body: "hello" });
 *   const message = await queue.receive();
 *   assert.ok(message);
 *   assert.equal(new TextDecoder().decode(message.body), "hello");
 *   await queue.delete(message);
 * } finally {
 *   await queue.close();
 *   await sql.unsafe("drop schema qite_doc_mod cascade");
 *   await sql.end();
 * }
 * ```
 *
 * @module
 */

export {
  PostgresQueue,
  type PostgresQueueOptions,
  type PostgresQueueTransaction,
} from "../src/postgres/queue.ts";
export { QITE_INDEXES, SCHEMA, setup, type SetupOptions } from "../src/postgres/schema.ts";
export { listQueues, type ListQueuesOptions } from "../src/postgres/list_queues.ts";
export type { PostgresClient, PostgresDriverName } from "../src/postgres/_client.ts";
export { QueueError, type QueueErrorCode, type QueueErrorOptions } from "../src/errors.ts";
export type {
  DeadPage,
  Message,
  MessageId,
  MessageInfo,
  Priority,
  QueueStats,
  Receipt,
  SendMessage,
} from "../src/message.ts";
export type {
  DeleteAndReceiveResult,
  ListDeadOptions,
  PeekOptions,
  QueueLike,
  ReceiveAndWaitOptions,
} from "../src/queue_like.ts";
