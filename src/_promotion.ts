/**
 * How often a receive promotes due messages (retries whose lease ended, delayed messages whose
 * delay is over) into the ready index, where they join goqite's exact order, and how many: one
 * pace for both engines.
 *
 * @module
 */

/**
 * The most due messages one promotion statement moves (those due earliest), the most one
 * promotion moves (it repeats the statement until fewer move or it reaches this), and how often,
 * at most, a queue promotes (in milliseconds, per queue object).
 *
 * A retry or delayed message joins goqite's exact order within {@linkcode PROMOTE_EVERY_MS} of
 * becoming due, and until then it can still be received through the receive's window of due
 * ones. So every burst of up to {@linkcode PROMOTE_MAX} messages due at once is received in
 * exact order.
 *
 * A larger backlog (consumers crashed, and thousands of leases lapsed together) cannot be. Then
 * the queue promotes one statement's worth ({@linkcode PROMOTE_BATCH}, the earliest due first)
 * for every {@linkcode PROMOTE_BATCH} messages it receives, until a statement finds fewer due:
 * the backlog's messages keep their place ahead of newer ones (the promoted ones wait in the
 * ready index, oldest first), and each receive pays for moving about one row, whatever the size
 * of the backlog. Moving rows by the clock instead cost each receive for the rows moved in its
 * share of the time, which grows as the machine or the consumer slows: 8 192 rows at a time made
 * a receive behind 100 000 lapsed leases cost 4.3× a small table's, and 512 every 10 ms 2.1–2.6×
 * on a slower machine.
 */
export const PROMOTE_BATCH = 128;
/** See {@linkcode PROMOTE_BATCH}. */
export const PROMOTE_MAX = 512;
/** See {@linkcode PROMOTE_BATCH}. */
export const PROMOTE_EVERY_MS = 10;

/** One queue object's promotion pace: when it promotes next, and how many statements it runs. */
export class PromotionPace {
  /** When the queue last promoted, by its clock. */
  #at = -Infinity;
  /** Whether the last statement moved a full batch: more may be due than one promotion moves. */
  #backlog = false;
  /** Messages received since the last promotion while a backlog drains, up to PROMOTE_MAX. */
  #received = 0;

  /**
   * How many promotion statements to run now, each moving up to {@linkcode PROMOTE_BATCH}
   * (stop early when one moves fewer, and report the last one's count to {@linkcode moved}):
   * none within {@linkcode PROMOTE_EVERY_MS} of the last promotion (by `now`; a clock that jumps
   * back promotes at once), nor while a backlog drains until {@linkcode PROMOTE_BATCH} messages
   * have been received since; then one; else up to {@linkcode PROMOTE_MAX}'s worth.
   */
  statements(now: number): number {
    if (Math.abs(now - this.#at) < PROMOTE_EVERY_MS) return 0;
    if (!this.#backlog) {
      this.#at = now;
      return PROMOTE_MAX / PROMOTE_BATCH;
    }
    if (this.#received < PROMOTE_BATCH) return 0;
    this.#at = now;
    this.#received -= PROMOTE_BATCH;
    return 1;
  }

  /** Records how many rows the last statement of a promotion moved. */
  moved(last: number): void {
    this.#backlog = last >= PROMOTE_BATCH;
    if (!this.#backlog) this.#received = 0;
  }

  /** Counts messages received (they pace the promotions while a backlog drains). */
  received(count: number): void {
    if (this.#backlog) this.#received = Math.min(PROMOTE_MAX, this.#received + count);
  }
}
