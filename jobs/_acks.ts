/**
 * Acknowledgements for the job runner: the messages of finished jobs, deleted several per
 * call. The runner hands them to its next receive (`deleteAndReceive`, one commit for both);
 * what it does not take within a turn of the event loop is deleted on its own. A failed delete
 * keeps them and tries again later, so a finished job is not run again for a passing error.
 *
 * @module
 */

import type { Message } from "../src/message.ts";
import type { QueueLike } from "../src/queue_like.ts";

/** After a failed delete, the next try comes after this many ms, doubling up to the cap. */
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 2000;

/** The finished jobs' messages waiting to be deleted. */
export class Acks {
  readonly #queue: QueueLike;
  readonly #onResults: (messages: readonly Message[], deleted: readonly boolean[]) => void;
  readonly #onError: (error: unknown, count: number) => void;
  #pending: Message[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #flushing: Promise<void> | undefined;

  /**
   * @param queue The queue the messages came from.
   * @param onResults Told which messages were deleted (a `false`: the lease was lost).
   * @param onError Told when a delete failed (the messages are kept).
   */
  constructor(
    queue: QueueLike,
    onResults: (messages: readonly Message[], deleted: readonly boolean[]) => void,
    onError: (error: unknown, count: number) => void,
  ) {
    this.#queue = queue;
    this.#onResults = onResults;
    this.#onError = onError;
  }

  /** How many wait to be deleted. */
  get size(): number {
    return this.#pending.length;
  }

  /** Adds a finished job's message; it is deleted within a turn of the event loop. */
  push(message: Message): void {
    this.#pending.push(message);
    this.#schedule(0);
  }

  /** Takes every waiting message, for a call that deletes them itself. */
  take(): Message[] {
    const taken = this.#pending;
    this.#pending = [];
    return taken;
  }

  /** Reports what a call that took them did with them. */
  settle(messages: readonly Message[], deleted: readonly boolean[]): void {
    this.#failures = 0;
    this.#onResults(messages, deleted);
  }

  /** Gives back messages a call took but could not delete; they are tried again later. */
  restore(messages: readonly Message[], error: unknown): void {
    this.#pending.unshift(...messages);
    this.#onError(error, messages.length);
    this.#failures++;
    this.#schedule(Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (this.#failures - 1)));
  }

  /**
   * Deletes what waits, now; resolves when done (whether it worked or not). Waits for a flush
   * already under way first.
   */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const messages = this.take();
    if (messages.length === 0) return;
    this.#flushing = this.#queue.deleteBatch(messages).then(
      (deleted) => this.settle(messages, deleted),
      (error: unknown) => this.restore(messages, error),
    ).finally(() => this.#flushing = undefined);
    await this.#flushing;
  }

  /** Stops the timer; what waits stays (see {@linkcode Acks.size}). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, ms);
  }
}
