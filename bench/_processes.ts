/**
 * The `processes` workloads: P = 1, 2, 4 and 8 processes of this runtime (`_loop.ts`), each
 * running goqite's single-message loop through `Queue` on one WAL file. The bench hands out the
 * cycles in small grants, two ahead per process, so that every process stays busy until the
 * last few cycles of a part (like Go's `b.RunParallel`), and times the part from the first grant
 * to the last cycle done.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "./_runtime.ts";
import { openStore, type Store } from "./_storage.ts";
import type { Context, Trial, Workload } from "./_workloads.ts";

const SCRIPT = fileURLToPath(new URL("./_loop.ts", import.meta.url));
const QUEUE = "bench";
/** How many grants each process holds at most: the one it runs and the next. */
const AHEAD = 2;

/** One `_loop.ts` process. */
interface Looper {
  readonly child: ChildProcess;
  /** Its retries and the ms they waited, as of its last report. */
  retries: number;
  waited: number;
  /** Cycles granted and not yet reported done, per grant, oldest first. */
  readonly granted: number[];
}

/** Starts a `_loop.ts` on `store`'s file and resolves once it is ready. */
function startLooper(
  store: Store,
  onRan: (looper: Looper) => void,
  onExit: (error: Error) => void,
): Promise<Looper> {
  const [exe, args] = scriptCommand(SCRIPT);
  const child = spawn(exe, [...args, store.path, store.synchronous, store.driver ?? "", QUEUE], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const looper: Looper = { child, retries: 0, waited: 0, granted: [] };
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      const error = new Error(`A loop process exited with ${code}`);
      reject(error);
      onExit(error);
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line === "ready") return resolve(looper);
      const [word, retries, waited] = line.split(" ");
      if (word !== "ran") return;
      looper.retries = Number(retries);
      looper.waited = Number(waited);
      onRan(looper);
    });
  });
}

/** Ends a process's input and waits for it to exit. */
function stopLooper(looper: Looper): Promise<void> {
  const { child } = looper;
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    child.removeAllListeners("exit");
    child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`exit code ${code}`)));
    child.stdin!.end();
  });
}

/** P processes of the single-message loop on one WAL file. */
function processes(count: number): Workload {
  return {
    id: `processes-${count}`,
    title: `send+receive+delete, ${count} process${count === 1 ? "" : "es"}`,
    group: "processes",
    ...(count === 1 ? {} : { versus: { id: "processes-1", as: "percent" } }),
    unit: "msg",
    storages: ["wal-normal"],
    sizes: [0, 10_000, 0, 40],
    async prepare(context: Context, units: number): Promise<Trial> {
      const store = openStore(context.storage, context.driver);
      let left = 0;
      let pending = 0;
      let grant = 1;
      let done: (() => void) | undefined;
      let failed: ((error: Error) => void) | undefined;
      const give = (looper: Looper): void => {
        const cycles = Math.min(grant, left);
        if (cycles === 0) return;
        left -= cycles;
        looper.granted.push(cycles);
        looper.child.stdin!.write(`go ${cycles}\n`);
      };
      const onRan = (looper: Looper): void => {
        pending -= looper.granted.shift()!;
        give(looper);
        if (pending === 0 && left === 0) done?.();
      };
      let loopers: Looper[] = [];
      try {
        loopers = await Promise.all(
          Array.from(
            { length: count },
            () => startLooper(store, onRan, (error) => failed?.(error)),
          ),
        );
      } catch (error) {
        await Promise.allSettled(loopers.map(stopLooper));
        store.close();
        throw error;
      }
      return {
        units,
        store,
        run(cycles: number): Promise<void> {
          left = cycles;
          pending = cycles;
          // Small grants keep the processes busy to the end; 10 or more cycles each (at full
          // size) keep the bench's messages few next to the work.
          grant = Math.max(1, Math.min(20, Math.floor(cycles / (count * 8))));
          const finished = new Promise<void>((resolve, reject) => {
            done = resolve;
            failed = reject;
          });
          for (let i = 0; i < AHEAD; i++) loopers.forEach(give);
          return cycles === 0 ? Promise.resolve() : finished;
        },
        counters(): Record<string, number> {
          return {
            retries: loopers.reduce((sum, looper) => sum + looper.retries, 0),
            "retry ms": loopers.reduce((sum, looper) => sum + looper.waited, 0),
          };
        },
        async close(): Promise<void> {
          try {
            await Promise.all(loopers.map(stopLooper));
            const left = Number(store.db.prepare("select count(*) as n from goqite").get()?.n);
            if (left !== 0) throw new Error(`Benchmark check failed: ${left} messages are left`);
          } finally {
            store.close();
          }
        },
      };
    },
  };
}

/** P = 1, 2, 4 and 8. */
export const PROCESS_WORKLOADS: readonly Workload[] = [1, 2, 4, 8].map(processes);
