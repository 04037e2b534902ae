/**
 * The SQL of a PostgreSQL queue, built once per table and `maxReceive`.
 *
 * Time: every statement reads the time as `coalesce($1::timestamptz, statement_timestamp())`:
 * the database server's clock, unless a test binds a time of its own (the queue's `clock`
 * option). So every machine agrees on leases and delays whatever its own clock says. It is the
 * statement's time, not `now()`: `now()` is when the transaction began, and inside a caller's
 * transaction (`queue.with(tx)`) that has run a while, a lease or a delay timed from it would
 * already be over, or nearly, when the transaction commits.
 *
 * Receipts: a delivery is identified by the message's receive count and its `created` time in
 * microseconds since the epoch at the receive (a `timestamptz` keeps microseconds, a JavaScript
 * `Date` only milliseconds, so the time travels as decimal text and is compared as `int8`).
 * Receiving raises the count; releasing and redriving lower it but move `created` strictly
 * forward (to now, or 1 µs past its old value), and burying raises it. So the pair never repeats
 * for a message.
 *
 * Receiving: one statement at READ COMMITTED. Each branch of the candidates seeks one of qite's
 * partial indexes and locks what it reads with `for update skip locked`: the first `limit`
 * ready messages (sent without a delay, or promoted once due) in goqite's order, and for each
 * receive count below `maxReceive` the `limit + 15` retries and delayed messages not yet
 * promoted that became due earliest. A receive first promotes due messages into the ready
 * index, where they join goqite's exact order, at the pace of `PromotionPace` (`../_promotion.ts`,
 * shared with SQLite): at most every 10 ms, 128 at a time, those due earliest first, up to 512,
 * or while a larger backlog drains, 128 for every 128 received. (goqite binds its own clock's time as
 * the `timeout` of what it sends, a little after the row's `created`, so all of goqite's
 * messages arrive through the waiting index, however large the backlog.)
 * Rows another consumer has locked are skipped rather than waited for, and a row another
 * consumer changed after the statement began is checked again against the branch's conditions
 * before it is taken, so no message is handed out twice inside its timeout. Of what the branches
 * locked, the first `limit` in goqite's order are taken; the other locks end with the statement.
 * Dead messages are never read, and no branch reads more than its limit.
 *
 * @module
 */

import { bodyReadLength } from "../_bytes.ts";
import { PROMOTE_BATCH } from "../_promotion.ts";

/** The current time: the server's, unless a time is bound as `$1`. */
const NOW = "coalesce($1::timestamptz, statement_timestamp())";

/** A column's time in microseconds since the epoch, exactly (PostgreSQL ≥ 14). */
function micros(column: string): string {
  return `(extract(epoch from ${column}) * 1000000)::int8`;
}

/** A column's time in milliseconds since the epoch, as a float. */
function millis(column: string): string {
  return `(extract(epoch from ${column}) * 1000)::float8`;
}

/** Milliseconds as an interval. */
function ms(value: string): string {
  return `(${value}::float8 * interval '1 millisecond')`;
}

/** The predicate of qite_waiting_idx: the visibility time is after `created`. */
const WAITING = "timeout > created";

/**
 * How many due retries (and due delayed messages) of each receive count a receive considers
 * beyond its limit: those due earliest. Fresh messages are always considered in exact order.
 */
export const RETRY_WINDOW = 15;

/** Receive counts up to this many get one index seek each; above it, one range scan. */
export const MAX_SEEK_PARTITIONS = 32;

/** Limits up to this many are written into the SQL; larger ones are bound. */
export const MAX_LITERAL_LIMIT = 128;

/** The columns of a message as every reading statement returns them. */
function messageColumns(alias: string, body?: string): string {
  const a = alias === "" ? "" : `${alias}.`;
  return `${a}id, ${body ?? `${a}body`}, ${a}received, ${a}priority, ${
    micros(`${a}created`)
  }::text as created_us`;
}

/**
 * The body's columns for a peek or a page of dead messages: the body, or its first bytes (see
 * {@linkcode bodyReadLength}), and its whole size. A body stored out of line is then read only as far as needed.
 */
export function bodyColumns(alias: string, bodyBytes: number | undefined): string {
  const body = alias === "" ? "body" : `${alias}.body`;
  const size = `octet_length(${body})::float8 as size`;
  if (bodyBytes === undefined) return `${body}, ${size}`;
  return `substring(${body} from 1 for ${bodyReadLength(bodyBytes)}) as body, ${size}`;
}

/** Quotes an identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The `goqite` table, in `schema` (quoted) or on the search path. */
export function tableName(schema: string | undefined): string {
  return schema === undefined ? "goqite" : `${quoteIdent(schema)}.goqite`;
}

/** The SQL of one queue's statements. */
export interface QueueSql {
  /** Inserts one message and notifies: $1 now, $2 queue, $3 id, $4 body, $5 delay, $6 priority, $7 channel, $8 payload. */
  readonly sendOne: string;
  /**
   * Inserts messages and notifies: $1 now, $2 queue, $3 ids, $4 bodies (concatenated), $5 their
   * lengths, $6 delays, $7 priorities, $8 channel, $9 payload.
   */
  readonly sendMany: string;
  /** Receives up to `limit`: $1 now, $2 queue, $3 timeout (ms) [, $4 limit]. */
  receive(limit: number | "$4"): string;
  /**
   * Deletes targets and receives up to `limit`, in one statement: $1 now, $2 queue, $3 timeout,
   * $4 ids, $5 receive counts, $6 created (µs) [, $7 limit].
   */
  deleteAndReceive(limit: number | "$7"): string;
  /**
   * Up to `limit` visible messages in receive order: $1 now, $2 queue [, $3 limit]. `body` is
   * the body's columns (see {@linkcode bodyColumns}), here and below.
   */
  peek(limit: number | "$3", body: string): string;
  /** Up to $3 delayed (never received) messages, soonest visible first: $1 now, $2 queue. */
  peekDelayed(body: string): string;
  /** Up to $3 in-flight messages, soonest visible first: $1 now, $2 queue. */
  peekInFlight(body: string): string;
  /**
   * Moves up to {@linkcode PROMOTE_BATCH} due messages (those due earliest, skipping rows other
   * consumers lock) from qite_waiting_idx into qite_ready_idx, by setting `timeout` back to
   * `created`, and returns how many as `n`: $1 now, $2 queue.
   */
  readonly promote: string;
  /** Milliseconds until the next delayed or in-flight message is due: $1 now, $2 queue, $3 since (ms). */
  readonly nextDue: string;
  /** Extends targets: $1 now, $2 queue, $3 delay, $4 ids, $5 receive counts, $6 created (µs). */
  readonly extend: string;
  /** Deletes targets: $1 queue, $2 ids, $3 receive counts, $4 created (µs). */
  readonly delete: string;
  /** Extends one message by id: $1 now, $2 queue, $3 delay, $4 id. */
  readonly extendOne: string;
  /** Extends one delivery: $1 now, $2 queue, $3 delay, $4 id, $5 receive count, $6 created (µs). */
  readonly extendOneFenced: string;
  /** Deletes one message by id: $1 queue, $2 id. */
  readonly deleteOne: string;
  /** Deletes one delivery: $1 queue, $2 id, $3 receive count, $4 created (µs). */
  readonly deleteOneFenced: string;
  /**
   * Hands deliveries back: $1 now, $2 queue, $3 delay, $4 ids, $5 receive counts, $6 created,
   * and when `notify`, $7 channel and $8 origin.
   */
  release(notify: boolean): string;
  /** Makes one delivery dead: $1 now, $2 queue, $3 id, $4 receive count, $5 created (µs). */
  readonly bury: string;
  /** A page of dead messages: $1 now, $2 queue, $3 cursor created (µs) or null, $4 cursor id, $5 limit. */
  listDead(body: string): string;
  /** $1 now, $2 queue. */
  readonly countDead: string;
  /** Redrives every dead message and notifies: $1 now, $2 queue, $3 channel, $4 origin. */
  readonly redriveAll: string;
  /** Redrives the given dead messages and notifies: $1 now, $2 queue, $3 channel, $4 origin, $5 ids. */
  readonly redriveSome: string;
  /** $1 now, $2 queue. */
  readonly purgeDead: string;
  /** $1 queue. */
  readonly purge: string;
  /** $1 now, $2 queue. */
  readonly stats: string;
}

/**
 * The candidates of a receive or peek, as CTEs `c0 … cN` of `id, priority, created`: see the
 * module doc. `exclude` is an SQL array of ids never to consider (those the same statement
 * deletes).
 */
function candidates(
  table: string,
  maxReceive: number,
  limit: string,
  lock: boolean,
  exclude: string | undefined,
): string[] {
  const window = /^\d+$/.test(limit) ? String(Number(limit) + RETRY_WINDOW) : `${limit} + 15`;
  const locking = lock ? " for update skip locked" : "";
  // A hashed subplan: a lookup per row, however many ids.
  const skip = exclude === undefined ? "" : ` and id not in (select unnest(${exclude}))`;
  const branches = [
    `select id, priority, created from ${table}
    where queue = $2::text and timeout <= created and timeout <= ${NOW}
      and received < ${maxReceive}${skip}
    order by priority desc, created limit ${limit}${locking}`,
  ];
  branches.push(
    ...dueBranches(table, maxReceive, window, "id, priority, created", locking, skip),
  );
  return branches.map((branch, i) => `c${i} as (\n    ${branch})`);
}

/** How many {@linkcode dueBranches} a queue's statements have. */
function dueBranchCount(maxReceive: number): number {
  return Math.min(maxReceive, MAX_SEEK_PARTITIONS) + (maxReceive > MAX_SEEK_PARTITIONS ? 1 : 0);
}

/**
 * For each receive count below `maxReceive`, the `window` messages waiting in qite_waiting_idx
 * that became due earliest, as `columns`: one seek per receive count (one range for the counts
 * from {@linkcode MAX_SEEK_PARTITIONS} on).
 */
function dueBranches(
  table: string,
  maxReceive: number,
  window: string,
  columns: string,
  locking: string,
  skip = "",
): string[] {
  const due = (filter: string): string =>
    `select ${columns} from ${table}
    where queue = $2::text and ${filter} and timeout <= ${NOW} and ${WAITING}${skip}
    order by timeout limit ${window}${locking}`;
  const branches: string[] = [];
  const seeks = Math.min(maxReceive, MAX_SEEK_PARTITIONS);
  for (let received = 0; received < seeks; received++) {
    branches.push(due(`received = ${received}`));
  }
  if (maxReceive > MAX_SEEK_PARTITIONS) {
    branches.push(due(`received >= ${MAX_SEEK_PARTITIONS} and received < ${maxReceive}`));
  }
  return branches;
}

/** The first `limit` candidates in goqite's order, as CTE `picked`. */
function picked(count: number, limit: string): string {
  const union = Array.from({ length: count }, (_, i) => `select * from c${i}`).join(
    " union all ",
  );
  return `picked as (select id from (${union}) c order by priority desc, created, id limit ${limit})`;
}

/** A row's `created` time plus 1 µs (`alias` prefixes the column, e.g. `"g."`). */
function justAfterCreated(alias = ""): string {
  return `${alias}created + interval '1 microsecond'`;
}

/**
 * When a lease of $3 ms taken now ends: never at or before the row's `created` time (a batch's
 * messages are created up to a few µs ahead, and a test clock can go back), where a received
 * message would be neither visible nor dead (dead ones are read from qite_waiting_idx, which
 * holds only timeout > created). `alias` prefixes the row's columns (`"g."`).
 */
function leaseEnd(alias: string): string {
  return `greatest(${NOW} + ${ms("$3")}, ${justAfterCreated(alias)})`;
}

/**
 * When an extended lease of $3 ms ends: for a message on its last receive, never at or before its
 * `created` time (see {@linkcode leaseEnd}); any other message with such a timeout is simply
 * ready.
 */
function extendedEnd(alias: string, maxReceive: number): string {
  return `greatest(${NOW} + ${ms("$3")}, case when ${alias}received >= ${maxReceive} then ${
    justAfterCreated(alias)
  } end)`;
}

/** Takes the picked messages: a new lease and one more receive each. */
function take(table: string): string {
  return `taken as (update ${table} g set timeout = ${leaseEnd("g.")}, received = g.received + 1
    where g.id = any(array(select id from picked))
    returning ${messageColumns("g")})`;
}

/** Receive targets: ids, and receive counts and created times (null for a bare id). */
function targets(ids: string, received: string, created: string): string {
  return `unnest(${ids}::text[], ${received}::int4[], ${created}::int8[]) with ordinality ` +
    "as t(id, received, created_us, ord)";
}

/**
 * A target's condition on row `g`: the id, and for a receipt its delivery. `ids` repeats the
 * ids as an array, so that the rows are found by the primary key (without it the planner, which
 * cannot see how many targets there are, may scan the table).
 */
function targetMatch(ids: string): string {
  return `g.id = any(${ids}::text[]) and g.id = t.id and (t.received is null or (g.received = t.received and ${
    micros("g.created")
  } = t.created_us))`;
}

/** A notification's payload: the origin, the count of messages made visible, the queue. */
function payload(origin: string, count: string): string {
  return `concat(${origin}::text, ' ', ${count}, ' ', $2::text)`;
}

/**
 * Builds a queue's SQL. `maxReceive` is a validated integer and is written as a literal, so that
 * the planner matches the partial indexes and seeks per receive count.
 *
 * @param table The quoted table name.
 * @param maxReceive The queue's maximum receive count.
 */
export function buildSql(table: string, maxReceive: number): QueueSql {
  const dead =
    `queue = $2::text and received >= ${maxReceive} and timeout <= ${NOW} and ${WAITING}`;
  const bumped = `greatest(${NOW}, ${justAfterCreated()})`;
  const infoColumns = (body: string): string =>
    `${messageColumns("", body)}, ${millis("created")} as created_ms, ${
      millis("timeout")
    } as timeout_ms`;
  const branchCount = 1 + dueBranchCount(maxReceive);
  const nowRow = `(select ${millis(NOW)} as now_ms) n`;
  return {
    sendOne: `with ins as (
  insert into ${table} (id, created, updated, queue, body, timeout, priority)
  values ($3::text, ${NOW}, ${NOW}, $2::text, $4::bytea, ${NOW} + ${ms("$5")}, $6::int4)
  on conflict (id) do nothing)
select pg_notify($7::text, $8::text) is null as notified`,
    // A batch's messages are created 1 µs apart, in send order: goqite's order (priority, then
    // created) is then send order within a batch too, also once some are retries (a retry is
    // a new row version, which an index scan would otherwise give after equal keys). A delayed
    // one stays due after its created time (so in qite_waiting_idx), which in a batch of over
    // a thousand can add a few µs to a delay of a millisecond or two.
    sendMany: `with rows as (
  select id, len, delay, priority, (sum(len) over (order by ord) - len)::int4 as off,
    ${NOW} + (ord - 1) * interval '1 microsecond' as created
  from unnest($3::text[], $5::int4[], $6::float8[], $7::int4[]) with ordinality
    as r(id, len, delay, priority, ord)),
ins as (
  insert into ${table} (id, created, updated, queue, body, timeout, priority)
  select id, created, created, $2::text, substring($4::bytea from off + 1 for len),
    case when delay > 0
      then greatest(${NOW} + delay * interval '1 millisecond', ${justAfterCreated()})
      else ${NOW} end,
    priority
  from rows
  on conflict (id) do nothing)
select pg_notify($8::text, $9::text) is null as notified`,
    receive: (limit) =>
      `with ${candidates(table, maxReceive, String(limit), true, undefined).join(",\n")},
${picked(branchCount, String(limit))},
${take(table)}
select t.*, n.now_ms from ${nowRow} left join taken t on true`,
    deleteAndReceive: (limit) =>
      `with deleted as (delete from ${table} g using ${targets("$4", "$5", "$6")}
    where g.queue = $2::text and ${targetMatch("$4")}
    returning t.ord::int4 as ord),
${candidates(table, maxReceive, String(limit), true, "$4::text[]").join(",\n")},
${picked(branchCount, String(limit))},
${take(table)}
select 'r' as kind, null::int4 as ord, t.*, n.now_ms from ${nowRow} left join taken t on true
union all
select 'd', ord, null, null, null, null, null, null from deleted`,
    peek: (limit, body) =>
      `with ${candidates(table, maxReceive, String(limit), false, undefined).join(",\n")},
${picked(branchCount, String(limit))}
select ${messageColumns("g", body)}, ${millis("g.created")} as created_ms, ${
        millis("g.timeout")
      } as timeout_ms
from ${table} g join picked using (id)
order by g.priority desc, g.created, g.id`,
    promote: `with ${
      dueBranches(
        table,
        maxReceive,
        String(PROMOTE_BATCH),
        "id, timeout",
        " for update skip locked",
      )
        .map((branch, i) => `d${i} as (\n    ${branch})`).join(",\n")
    },
due as (select id from (${
      Array.from(
        { length: dueBranchCount(maxReceive) },
        (_, i) => `select * from d${i}`,
      ).join(" union all ")
    }) d order by timeout limit ${PROMOTE_BATCH}),
promoted as (update ${table} g set timeout = g.created from due where g.id = due.id returning 1)
select count(*)::int4 as n from promoted`,
    peekDelayed: (body) =>
      `select ${infoColumns(body)} from ${table}
where queue = $2::text and received = 0 and timeout > ${NOW} and ${WAITING}
order by timeout, id limit $3::int4`,
    peekInFlight: (body) =>
      `select ${infoColumns(body)} from ${table}
where queue = $2::text and received > 0 and timeout > ${NOW} and ${WAITING}
order by timeout, id limit $3::int4`,
    nextDue: `select ${
      millis(`least(${
        Array.from(
          { length: Math.min(maxReceive, MAX_SEEK_PARTITIONS) },
          (_, received) =>
            `(select min(timeout) from ${table} where queue = $2::text and received = ${received}
      and timeout > to_timestamp($3::float8 / 1000) and ${WAITING})`,
        ).concat(
          maxReceive > MAX_SEEK_PARTITIONS
            ? [`(select min(timeout) from ${table} where queue = $2::text
      and received >= ${MAX_SEEK_PARTITIONS} and received < ${maxReceive}
      and timeout > to_timestamp($3::float8 / 1000) and ${WAITING})`]
            : [],
        ).join(",\n    ")
      }) - ${NOW}`)
    } as due`,
    extend: `update ${table} g set timeout = ${extendedEnd("g.", maxReceive)}
from ${targets("$4", "$5", "$6")}
where g.queue = $2::text and ${targetMatch("$4")}
returning t.ord::int4 as ord`,
    delete: `delete from ${table} g using ${targets("$2", "$3", "$4")}
where g.queue = $1::text and ${targetMatch("$2")}
returning t.ord::int4 as ord`,
    extendOne: `with u as (update ${table} set timeout = ${extendedEnd("", maxReceive)}
  where queue = $2::text and id = $4::text returning 1)
select count(*)::int4 as n from u`,
    extendOneFenced: `with u as (update ${table} set timeout = ${extendedEnd("", maxReceive)}
  where queue = $2::text and id = $4::text and received = $5::int4
    and ${micros("created")} = $6::int8 returning 1)
select count(*)::int4 as n from u`,
    deleteOne:
      `with d as (delete from ${table} where queue = $1::text and id = $2::text returning 1)
select count(*)::int4 as n from d`,
    deleteOneFenced: `with d as (delete from ${table}
  where queue = $1::text and id = $2::text and received = $3::int4
    and ${micros("created")} = $4::int8 returning 1)
select count(*)::int4 as n from d`,
    release: (notify) => {
      const update = `released as (update ${table} g set received = g.received - 1,
    created = greatest(${NOW}, ${justAfterCreated("g.")}), timeout = ${NOW} + ${ms("$3")}
  from ${targets("$4", "$5", "$6")}
  where g.queue = $2::text and ${targetMatch("$4")} and t.received is not null
    and g.received > 0
  returning t.ord::int4 as ord)`;
      return notify
        ? `with ${update},
counted as (select count(*) as n from released)
select ord, null as notified from released
union all
select null, case when n > 0 then pg_notify($7::text, ${
          payload("$8", "n")
        }) is null end from counted`
        : `with ${update}\nselect ord from released`;
    },
    bury: `with u as (update ${table} set received = greatest(received + 1, ${maxReceive}),
    timeout = ${bumped}
  where queue = $2::text and id = $3::text and received = $4::int4
    and ${micros("created")} = $5::int8 returning 1)
select count(*)::int4 as n from u`,
    listDead: (body) =>
      `select ${infoColumns(body)} from ${table}
where ${dead} and ($3::int8 is null
  or (created, id) > (timestamptz 'epoch' + $3::int8 * interval '1 microsecond', $4::text))
order by created, id limit $5::int8`,
    countDead: `select count(*)::float8 as n from ${table} where ${dead}`,
    // A redriven message gets received = 0, created = now (or just past its old created) and
    // timeout = now: visible at once, behind the messages already waiting, fresh again.
    redriveAll: `with r as (update ${table} set received = 0, created = ${bumped},
    timeout = ${NOW} where ${dead} returning 1),
counted as (select count(*) as n from r)
select n::float8 as n, case when n > 0 then pg_notify($3::text, ${
      payload("$4", "n")
    }) is null end as notified from counted`,
    redriveSome: `with r as (update ${table} set received = 0, created = ${bumped},
    timeout = ${NOW} where ${dead} and id = any($5::text[]) returning 1),
counted as (select count(*) as n from r)
select n::float8 as n, case when n > 0 then pg_notify($3::text, ${
      payload("$4", "n")
    }) is null end as notified from counted`,
    purgeDead: `with d as (delete from ${table} where ${dead} returning 1)
select count(*)::float8 as n from d`,
    purge: `with d as (delete from ${table} where queue = $1::text returning 1)
select count(*)::float8 as n from d`,
    stats: `select
  count(*)::float8 as total,
  (count(*) filter (where received < ${maxReceive} and timeout <= ${NOW}))::float8 as visible,
  (count(*) filter (where received > 0 and timeout > ${NOW}))::float8 as in_flight,
  (count(*) filter (where received = 0 and timeout > ${NOW}))::float8 as delayed,
  (count(*) filter (where received >= ${maxReceive} and timeout <= ${NOW}))::float8 as dead,
  ${
      millis(`${NOW} - min(created) filter (where received < ${maxReceive} and timeout <= ${NOW})`)
    } as oldest_age
from ${table} where queue = $2::text`,
  };
}

/** The names of the queues with messages, by a skip scan over goqite's index. */
export function listQueuesSql(table: string): string {
  return `with recursive q as (
  (select queue from ${table} order by queue limit 1)
  union all
  select (select queue from ${table} where queue > q.queue order by queue limit 1)
  from q where q.queue is not null)
select queue from q where queue is not null`;
}
