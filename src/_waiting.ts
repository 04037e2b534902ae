/**
 * Waiting for messages without a thundering herd, for every engine.
 *
 * The consumers waiting in one process on one database (a SQLite file, a PostgreSQL server)
 * share a {@linkcode WaitRoom}. Per queue, they stand in line:
 *
 * - only the first in line polls (at its interval, or when the next delayed or in-flight message
 *   becomes visible); the others sleep until woken;
 * - a send of `n` messages in this process wakes waiters for `n` messages, not everyone;
 * - a change made by another process (the engine's watcher says so, not how much) wakes the
 *   first in line of each queue;
 * - a waiter that got messages, when no other woken waiter is still trying, wakes the next in
 *   line: messages beyond what was announced are found one waiter at a time.
 *
 * So a send costs at most one receive attempt more than the messages it made visible, and an
 * idle queue costs one poll per interval, however many wait.
 *
 * @module
 */

import type { Message } from "./message.ts";
import type { Outgoing } from "./_input.ts";

/** What a waiter needs from its engine. */
export interface WaitWork {
  /** One receive attempt: up to the waiter's `max` messages, or none. */
  attempt(): Promise<Message[]>;
  /**
   * Milliseconds until the next delayed or in-flight message of the queue becomes visible
   * (`Infinity` when none), given as of the attempt that found nothing.
   */
  nextDue(): Promise<number>;
}

/** One consumer in line. */
interface Waiter {
  readonly max: number;
  readonly interval: number;
  /** The queue object it waits through, so that closing that object wakes it. */
  readonly owner: object;
  /** Set while it sleeps: ends the sleep. */
  wake: (() => void) | undefined;
  /** Whether it was woken and has not finished its attempt yet. */
  awake: boolean;
  /** Whether a wake came while it was awake: it tries once more before sleeping. */
  pending: boolean;
  /** Its polling timer, while it is first in line and asleep. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When it is first in line: when to poll next (ms since the process started). */
  pollAt: number;
}

/** The line of one queue. */
class Line {
  readonly waiters = new Set<Waiter>();
  /** Woken waiters whose attempt has not finished. */
  awake = 0;

  get head(): Waiter | undefined {
    for (const waiter of this.waiters) return waiter;
    return undefined;
  }
}

/** Waits for messages on the queues of one database, in one process; see the module doc. */
export class WaitRoom {
  #lines = new Map<string, Line>();
  #size = 0;
  #onBusy: ((busy: boolean) => void) | undefined;

  /**
   * @param onBusy Told `true` when the first consumer starts waiting and `false` when the last
   * one stops: the engine watches for other processes' changes only in between.
   */
  constructor(onBusy?: (busy: boolean) => void) {
    this.#onBusy = onBusy;
  }

  /** How many consumers wait. */
  get size(): number {
    return this.#size;
  }

  /**
   * `count` messages of `queue` became visible in this process: wakes sleepers until their
   * batch sizes cover `count`.
   */
  notify(queue: string, count: number): void {
    const line = this.#lines.get(queue);
    if (line === undefined || count <= 0) return;
    let left = count;
    for (const waiter of line.waiters) {
      if (left <= 0) break;
      this.#wake(line, waiter);
      left -= waiter.max;
    }
  }

  /**
   * `messages` were sent to `queue` in this process: wakes sleepers for the visible ones, and the
   * first in line polls by the time the soonest delayed one is due.
   */
  sent(queue: string, messages: readonly Outgoing[]): void {
    let visible = 0;
    let soonest = Infinity;
    for (const [, delay] of messages) {
      if (delay <= 0) visible++;
      else if (delay < soonest) soonest = delay;
    }
    this.notify(queue, visible);
    this.dueIn(queue, soonest);
  }

  /**
   * `count` messages of `queue` become visible `ms` from now, through this process (a release or
   * an extend): at once, they wake sleepers as a send does; later, the first in line polls by
   * then.
   */
  visibleIn(queue: string, count: number, ms: number): void {
    if (count <= 0) return;
    if (ms <= 0) this.notify(queue, count);
    else this.dueIn(queue, ms);
  }

  /**
   * A message of `queue` becomes visible `ms` from now: the first in line, asleep, polls by then
   * instead of at the next due time it read before it slept.
   */
  dueIn(queue: string, ms: number): void {
    const line = this.#lines.get(queue);
    const head = line?.head;
    if (line === undefined || head === undefined || head.awake || !(ms < Infinity)) return;
    const at = performance.now() + Math.max(1, ms);
    if (head.pollAt !== 0 && head.pollAt <= at) return;
    head.pollAt = at;
    if (head.timer !== undefined) {
      clearTimeout(head.timer);
      head.timer = undefined;
      this.#arm(line, head);
    }
  }

  /** Something changed that this process did not announce: wakes the first in every line. */
  notifyAll(): void {
    for (const line of this.#lines.values()) {
      const head = line.head;
      if (head !== undefined) this.#wake(line, head);
    }
  }

  /** Wakes every waiter (a connection closed: those on it will see that). */
  notifyEveryone(): void {
    for (const line of this.#lines.values()) {
      for (const waiter of line.waiters) this.#wake(line, waiter);
    }
  }

  /** Wakes every waiter that waits through `owner` (it is closing; they will see that). */
  wakeOwner(owner: object): void {
    for (const line of this.#lines.values()) {
      for (const waiter of line.waiters) {
        if (waiter.owner === owner) this.#wake(line, waiter);
      }
    }
  }

  /**
   * Waits in `queue`'s line until `work.attempt()` returns messages, the signal aborts (rejects
   * with its reason) or an attempt throws (rejects with that).
   *
   * @param queue The queue's name.
   * @param owner The queue object, for {@linkcode WaitRoom.wakeOwner}.
   * @param max The most messages one attempt asks for.
   * @param interval The longest time between two attempts while first in line, in ms.
   * @param signal Stops the wait.
   * @param work The attempt and the next due time.
   */
  async wait(
    queue: string,
    owner: object,
    max: number,
    interval: number,
    signal: AbortSignal | undefined,
    work: WaitWork,
  ): Promise<Message[]> {
    let line = this.#lines.get(queue);
    if (line === undefined) this.#lines.set(queue, line = new Line());
    const waiter: Waiter = {
      max,
      interval,
      owner,
      wake: undefined,
      awake: true,
      pending: false,
      timer: undefined,
      pollAt: 0,
    };
    line.awake++;
    line.waiters.add(waiter);
    if (this.#size++ === 0) this.#onBusy?.(true);
    let succeeded = false;
    try {
      while (true) {
        signal?.throwIfAborted();
        waiter.pending = false;
        const messages = await work.attempt();
        if (messages.length > 0) {
          succeeded = true;
          return messages;
        }
        if (waiter.pending) continue; // woken while trying: what woke it may have come after
        waiter.awake = false;
        line.awake--;
        if (line.head === waiter) {
          const due = await work.nextDue();
          waiter.pollAt = performance.now() + Math.max(1, Math.min(waiter.interval, due));
        }
        if (!waiter.awake) await this.#sleep(line, waiter, signal);
      }
    } finally {
      this.#leave(line, queue, waiter, succeeded);
    }
  }

  #wake(line: Line, waiter: Waiter): void {
    if (waiter.awake) {
      waiter.pending = true;
      return;
    }
    waiter.awake = true;
    line.awake++;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.timer = undefined;
    const wake = waiter.wake;
    waiter.wake = undefined;
    wake?.();
  }

  /** Sleeps until woken (or, first in line, until its poll is due); rejects on abort. */
  #sleep(line: Line, waiter: Waiter, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const abort = (): void => {
        waiter.wake = undefined;
        if (waiter.timer !== undefined) clearTimeout(waiter.timer);
        waiter.timer = undefined;
        reject(signal!.reason);
      };
      waiter.wake = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      signal?.addEventListener("abort", abort, { once: true });
      if (line.head === waiter) this.#arm(line, waiter);
    });
  }

  /** Starts the polling timer of the first in line. */
  #arm(line: Line, waiter: Waiter): void {
    if (waiter.timer !== undefined || waiter.wake === undefined) return;
    if (waiter.pollAt === 0) waiter.pollAt = performance.now() + waiter.interval;
    const delay = Math.max(0, waiter.pollAt - performance.now());
    waiter.timer = setTimeout(() => {
      waiter.timer = undefined;
      this.#wake(line, waiter);
    }, delay);
  }

  #leave(line: Line, queue: string, waiter: Waiter, succeeded: boolean): void {
    const wasHead = line.head === waiter;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.wake = undefined;
    if (waiter.awake) {
      waiter.awake = false;
      line.awake--;
    }
    line.waiters.delete(waiter);
    if (--this.#size === 0) this.#onBusy?.(false);
    if (line.waiters.size === 0) {
      this.#lines.delete(queue);
      return;
    }
    const next = line.head!;
    if (succeeded && line.awake === 0 && !next.awake) {
      // There may be more: the next in line tries at once.
      this.#wake(line, next);
    } else if (wasHead && !next.awake) this.#arm(line, next);
  }
}
