/**
 * Bulk loading for the large-table workloads: many rows in one statement, untimed.
 *
 * @module
 */

import type { Database } from "../mod.ts";
import { formatTime } from "../src/_time.ts";

/** What the rows of one {@linkcode fill} look like; the SQL expressions may use `i` (0, 1, …). */
export interface Rows {
  readonly count: number;
  /** The queue name, as SQL. */
  readonly queue: string;
  /** Row i is created at `createdAt + i` ms. */
  readonly createdAt: number;
  /** The visibility timeout, as SQL over `created`. */
  readonly timeout: string;
  /** The receive count, as SQL. */
  readonly received: string;
}

/** Inserts `rows.count` two-byte messages in one statement. */
export function fill(db: Database, rows: Rows): void {
  if (rows.count === 0) return;
  const base = rows.createdAt / 1000;
  db.exec(
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ${rows.count - 1}),
  t(i, created) as (
    select i, strftime('%Y-%m-%dT%H:%M:%fZ', ${base} + i / 1000.0, 'unixepoch') from n)
insert into goqite (id, created, updated, queue, body, timeout, received, priority)
select 'm_' || lower(hex(randomblob(16))), created, created, ${rows.queue}, x'796f',
  ${rows.timeout}, ${rows.received}, 0
from t`,
  );
}

/** A timestamp as a SQL string literal. */
export function timeLiteral(ms: number): string {
  return `'${formatTime(ms)}'`;
}
