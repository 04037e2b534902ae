/**
 * Wake-ups for `receiveAndWait`: at once for sends in this process, within milliseconds for
 * commits by other processes (by watching `PRAGMA data_version`, which changes when another
 * connection commits, never for the connection's own commits).
 *
 * @module
 */

/** How often, in milliseconds, a connection with waiters reads `PRAGMA data_version`. */
export const WATCH_INTERVAL_MS = 1;

/** Someone waiting for a message on a queue. */
export interface Waiter {
  /** The queue's name. */
  readonly queue: string;
  /** Called when the queue may have a message; must be cheap and must not throw. */
  wake(): void;
}

/** Every hub per database file in this process, so a send wakes waiters on other connections. */
const hubsByFile = new Map<string, Set<WakeHub>>();

/** The waiters of one connection, and the watcher that serves them. */
export class WakeHub {
  #readVersion: () => number;
  #file: string;
  #waiters = new Set<Waiter>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #version: number | undefined;

  /**
   * @param readVersion Reads `PRAGMA data_version` on this connection.
   * @param file The database file's absolute path, or `""` when it has none.
   */
  constructor(readVersion: () => number, file: string) {
    this.#readVersion = readVersion;
    this.#file = file;
    if (file !== "") {
      let hubs = hubsByFile.get(file);
      if (!hubs) hubsByFile.set(file, hubs = new Set());
      hubs.add(this);
    }
  }

  /** How many waiters there are; the watcher runs while there is one. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Adds a waiter, starting the watcher for the first. */
  add(waiter: Waiter): void {
    this.#waiters.add(waiter);
    if (this.#timer === undefined) {
      try {
        this.#version = this.#readVersion();
      } catch {
        this.#version = undefined;
      }
      this.#timer = setInterval(() => this.#poll(), WATCH_INTERVAL_MS);
    }
  }

  /** Removes a waiter, stopping the watcher after the last. */
  remove(waiter: Waiter): void {
    this.#waiters.delete(waiter);
    if (this.#waiters.size === 0) this.#stop();
  }

  /** Wakes the waiters of `queue` on every connection to this file in this process. */
  notify(queue: string): void {
    const hubs = this.#file === "" ? undefined : hubsByFile.get(this.#file);
    for (const hub of hubs ?? [this]) {
      for (const waiter of hub.#waiters) if (waiter.queue === queue) waiter.wake();
    }
  }

  /** Stops watching, forgets this connection and wakes every waiter (they will find it closed). */
  close(): void {
    this.#stop();
    const hubs = hubsByFile.get(this.#file);
    hubs?.delete(this);
    if (hubs?.size === 0) hubsByFile.delete(this.#file);
    this.#wakeAll();
  }

  #poll(): void {
    let version: number | undefined;
    try {
      version = this.#readVersion();
    } catch {
      // Let the waiters run their receive, which reports the error.
      this.#wakeAll();
      return;
    }
    if (version !== this.#version) {
      this.#version = version;
      this.#wakeAll();
    }
  }

  #wakeAll(): void {
    for (const waiter of this.#waiters) waiter.wake();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
