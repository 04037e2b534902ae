/**
 * Starts the wake-up workload's sending process (`_sender.ts`) on this runtime.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "./_runtime.ts";
import type { Store } from "./_storage.ts";

/** The sending process. */
export interface Sender {
  /** Asks it to send one message now. */
  go(): void;
  /** Ends its input and waits for it to exit. */
  close(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL("./_sender.ts", import.meta.url));

/** Starts a sender on `store`'s file for `queue`, resolving once it is ready to send. */
export function startSender(store: Store, queue: string): Promise<Sender> {
  const [exe, args] = scriptCommand(SCRIPT);
  const child = spawn(exe, [...args, store.path, store.synchronous, store.driver ?? "", queue], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const sender: Sender = {
    go: (): void => {
      child.stdin.write("go\n");
    },
    close: async (): Promise<void> => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`The sender exited with ${code}`);
    },
  };
  return new Promise((resolve, reject) => {
    let output = "";
    child.on("error", reject);
    child.stdout.on("data", (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      if (output.includes("ready\n")) resolve(sender);
    });
    exited.then((code) => reject(new Error(`The sender exited with ${code} before it was ready`)));
  });
}
