/**
 * The names of the queues in a PostgreSQL `goqite` table.
 *
 * @module
 */

import { type PostgresClient, wrapClient } from "./_client.ts";
import { toQueueError } from "./_errors.ts";
import { listQueuesSql, tableName } from "./_sql.ts";
import { checkSchema, type SetupOptions } from "./schema.ts";
import { checkObject } from "../_validate.ts";

/** Options for {@linkcode listQueues}. */
export type ListQueuesOptions = SetupOptions;

/**
 * Lists the names of the queues that have at least one message in the `goqite` table, sorted.
 * It skips from name to name on goqite's index, so it costs one index lookup per queue, not one
 * per message.
 *
 * @param sql A postgres.js `sql` or a Bun.SQL client.
 * @param options The schema of the table.
 * @returns The queue names.
 * @throws {TypeError} If `sql` is not a client qite recognises.
 * @throws {QueueError} If PostgreSQL fails (for example `NOT_SET_UP`).
 *
 * @example Listing queues
 * ```ts
 * import postgres from "postgres";
 * import { listQueues, PostgresQueue, setup } from "@qite/qite/postgres";
 * import assert from "node:assert/strict";
 *
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
 * await sql.unsafe("drop schema if exists qite_doc_list cascade"); // left by a run that was cut short
 * try {
 *   await setup(sql, { schema: "qite_doc_list" });
 *   await new PostgresQueue({ sql, schema: "qite_doc_list", name: "emails" }).send({ body: "x" });
 *   await new PostgresQueue({ sql, schema: "qite_doc_list", name: "reports" }).send({ body: "y" });
 *   assert.deepEqual(await listQueues(sql, { schema: "qite_doc_list" }), ["emails", "reports"]);
 * } finally {
 *   await sql.unsafe("drop schema if exists qite_doc_list cascade");
 *   await sql.end();
 * }
 * ```
 */
export async function listQueues(
  sql: PostgresClient,
  options: ListQueuesOptions = {},
): Promise<string[]> {
  const action = "list queues";
  const driver = wrapClient(sql, action);
  checkObject(action, "options", options);
  checkSchema(action, options.schema);
  try {
    const rows = await driver.query(listQueuesSql(tableName(options.schema)), []);
    return rows.map((row) => row.queue as string);
  } catch (error) {
    throw toQueueError(error, action);
  }
}
