/**
 * Wake-ups for the SQLite engine: one {@linkcode WaitRoom} per database file per process (per
 * connection for an in-memory database), fed by sends in this process and by one watcher of the
 * file for commits of other processes.
 *
 * The watcher reads `PRAGMA data_version` on one of the file's connections, which changes when
 * another connection commits. It reads it when the file system says the write-ahead log (or the
 * file) changed, and every {@linkcode FALLBACK_POLL_MS} ms in case a notification is missed; where
 * the file cannot be watched, every {@linkcode POLL_MS} ms. It runs only while someone waits.
 *
 * @module
 */

import { WaitRoom } from "../_waiting.ts";
import { type Database, internals, onDatabaseClose } from "./database.ts";
import { watchFile } from "../runtime/watch.ts";

/** How often the watcher reads `data_version` while the file cannot be watched, in ms. */
export const POLL_MS = 3;

/** How often the watcher reads `data_version` while the file is watched, in ms. */
export const FALLBACK_POLL_MS = 100;

/**
 * After a change notification that shows no new commit yet, the pauses before looking again, in
 * ms. The file system reports the writer's write to the log, but the commit becomes visible only
 * once the writer has synced the log (with `synchronous=FULL`, an fsync) and updated the shared
 * index, which it reports no more; without these looks such a commit waited for the fallback poll.
 */
export const SETTLE_MS: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/** The waiters of one file and its watcher. */
class FileWake {
  readonly room: WaitRoom;
  readonly #file: string;
  readonly #databases = new Set<Database>();
  #version: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopWatch: (() => void) | undefined;
  #watching = false;
  #checkQueued = false;
  #settle: ReturnType<typeof setTimeout> | undefined;
  #settleStep = 0;

  constructor(file: string) {
    this.#file = file;
    this.room = new WaitRoom((busy) => busy ? this.#start() : this.#stop());
  }

  add(db: Database): void {
    this.#databases.add(db);
  }

  /** A connection closed: forget it, and let every waiter look (those on it will fail). */
  remove(db: Database): boolean {
    this.#databases.delete(db);
    this.room.notifyEveryone();
    return this.#databases.size === 0;
  }

  /** The connection the watcher reads `data_version` on. */
  #source(): Database | undefined {
    for (const db of this.#databases) if (!db.closed) return db;
    return undefined;
  }

  #readVersion(): unknown {
    const db = this.#source();
    if (db === undefined) return undefined;
    try {
      return internals(db).statement("pragma data_version").get()?.data_version;
    } catch {
      return undefined;
    }
  }

  #start(): void {
    this.#watching = true;
    this.#version = this.#readVersion();
    if (this.#file !== "") {
      this.#stopWatch = watchFile(`${this.#file}-wal`, () => this.#queueCheck(), () => {
        this.#stopWatch = undefined;
      }) ?? watchFile(this.#file, () => this.#queueCheck(), () => {
        this.#stopWatch = undefined;
      });
    }
    this.#schedule();
  }

  #stop(): void {
    this.#watching = false;
    this.#stopWatch?.();
    this.#stopWatch = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#settle !== undefined) clearTimeout(this.#settle);
    this.#settle = undefined;
  }

  #schedule(): void {
    if (!this.#watching || this.#file === "") return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#check();
      this.#schedule();
    }, this.#stopWatch === undefined ? POLL_MS : FALLBACK_POLL_MS);
  }

  /** Many notifications may come at once for one commit: one check for all of them. */
  #queueCheck(): void {
    if (this.#checkQueued) return;
    this.#checkQueued = true;
    queueMicrotask(() => {
      this.#checkQueued = false;
      if (!this.#watching || this.#check()) return;
      // The write reported is not a visible commit yet: look again shortly, a few times.
      this.#settleStep = 0;
      if (this.#settle === undefined) this.#nextSettle();
    });
  }

  #nextSettle(): void {
    const pause = SETTLE_MS[this.#settleStep++];
    if (pause === undefined) return;
    this.#settle = setTimeout(() => {
      this.#settle = undefined;
      if (this.#watching && !this.#check()) this.#nextSettle();
    }, pause);
  }

  /** Reads `data_version`; when it changed, wakes the room. Returns whether it changed. */
  #check(): boolean {
    const version = this.#readVersion();
    if (version === this.#version) return false;
    this.#version = version;
    this.room.notifyAll();
    return true;
  }
}

const byFile = new Map<string, FileWake>();
const byDatabase = new WeakMap<Database, FileWake>();

onDatabaseClose((db) => {
  const wake = byDatabase.get(db);
  if (wake === undefined) return;
  byDatabase.delete(db);
  if (wake.remove(db)) {
    for (const [file, candidate] of byFile) if (candidate === wake) byFile.delete(file);
  }
});

/**
 * The wait room of a connection's database: shared by every connection to the same file in
 * this process, so that a send on one wakes waiters on another.
 *
 * @param db The connection.
 * @returns Its room.
 */
export function roomOf(db: Database): WaitRoom {
  let wake = byDatabase.get(db);
  if (wake !== undefined) return wake.room;
  const file = internals(db).file;
  wake = file === "" ? undefined : byFile.get(file);
  if (wake === undefined) {
    wake = new FileWake(file);
    if (file !== "") byFile.set(file, wake);
  }
  wake.add(db);
  byDatabase.set(db, wake);
  return wake.room;
}
