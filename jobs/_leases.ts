/**
 * Lease renewal for the job runner: keeps the messages of running (and held) jobs hidden by
 * extending them, several per statement, when 80 % of their lease has passed, and says when a
 * lease is lost.
 *
 * Every time here is conservative: a lease is taken to start when the call that took or
 * extended it started (`performance.now()` read before the call), never later, so renewals come
 * early rather than late however long the call waited for a lock.
 *
 * @module
 */

import type { Message } from "../src/message.ts";
import type { QueueLike } from "../src/queue_like.ts";

/** The share of a lease after which it is renewed. */
const RENEW_AT = 0.8;
/** Leases due within this many ms of the first are renewed in the same call. */
const BATCH_WINDOW_MS = 10;
/** After a failed renewal, the next try comes this many ms later. */
const RETRY_MS = 100;

/** One message's lease. */
export interface Lease {
  readonly message: Message;
  /** When the lease ends, at the latest (ms on `performance.now()`'s clock). */
  end: number;
  /** When to renew it. */
  renewAt: number;
  /** Whether it was lost: another consumer may hold the message now. */
  lost: boolean;
}

/** The leases a runner holds, and their renewals. */
export class Leases {
  readonly #queue: QueueLike;
  readonly #extend: number;
  readonly #onLost: (lease: Lease) => void;
  readonly #onError: (error: unknown) => void;
  readonly #leases = new Set<Lease>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #renewing = false;
  #stopped = false;

  /**
   * @param queue The queue the messages came from.
   * @param extend How long each renewal lasts, in ms.
   * @param onLost Called once for each lease that is lost.
   * @param onError Called when a renewal call fails (it is tried again soon).
   */
  constructor(
    queue: QueueLike,
    extend: number,
    onLost: (lease: Lease) => void,
    onError: (error: unknown) => void,
  ) {
    this.#queue = queue;
    this.#extend = extend;
    this.#onLost = onLost;
    this.#onError = onError;
  }

  /** How many leases are held. */
  get size(): number {
    return this.#leases.size;
  }

  /**
   * Starts holding the leases of messages received by a call that started at `since`.
   *
   * @param messages The messages.
   * @param since `performance.now()` just before the receive call.
   * @param length The lease's length: the queue's timeout.
   * @returns Their leases.
   */
  add(messages: readonly Message[], since: number, length: number): Lease[] {
    const leases = messages.map((message) => ({
      message,
      end: since + length,
      renewAt: since + RENEW_AT * length,
      lost: false,
    }));
    for (const lease of leases) this.#leases.add(lease);
    if (leases.length > 0) this.#schedule();
    return leases;
  }

  /** Stops holding a lease (its job finished, or its message was handed back). */
  remove(lease: Lease): void {
    this.#leases.delete(lease);
  }

  /** Stops renewing: the leases run out on their own. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #schedule(): void {
    if (this.#stopped || this.#renewing) return;
    let next = Infinity;
    for (const lease of this.#leases) if (!lease.lost && lease.renewAt < next) next = lease.renewAt;
    if (next === Infinity || next >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      void this.#renew();
    }, Math.max(0, next - performance.now()));
  }

  async #renew(): Promise<void> {
    const now = performance.now();
    const due = [...this.#leases].filter((lease) =>
      !lease.lost && lease.renewAt <= now + BATCH_WINDOW_MS
    );
    if (due.length > 0) {
      this.#renewing = true;
      const since = performance.now();
      let extended: boolean[] | undefined;
      // A call that has not answered when the first of these leases ends is waited for no
      // longer (an HTTP request can hang): those leases are lost, and their jobs told so.
      const call = this.#queue.extendBatch(due.map((lease) => lease.message), this.#extend);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const firstEnd = Math.min(...due.map((lease) => lease.end));
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), Math.max(0, firstEnd - performance.now()));
      });
      try {
        const outcome = await Promise.race([call, late]);
        if (outcome !== "late") extended = outcome;
        else call.catch(() => {}); // its answer, whenever it comes, changes nothing here
      } catch (error) {
        this.#onError(error);
      } finally {
        clearTimeout(timer);
        this.#renewing = false;
      }
      const after = performance.now();
      due.forEach((lease, i) => {
        if (!this.#leases.has(lease) || lease.lost) return;
        if (extended?.[i] === true) {
          lease.end = since + this.#extend;
          lease.renewAt = since + RENEW_AT * this.#extend;
        } else if (extended !== undefined || after >= lease.end) {
          // Another consumer has it, or it ran out while the renewals failed.
          this.#lose(lease);
        } else lease.renewAt = after + RETRY_MS;
      });
    }
    this.#schedule();
  }

  #lose(lease: Lease): void {
    lease.lost = true;
    this.#leases.delete(lease);
    this.#onLost(lease);
  }
}
