/**
 * A second process that holds a SQLite file's write lock for a while. Usage:
 *   _lock_holder.ts <driver> <path> <ms>
 * It takes the lock (`BEGIN IMMEDIATE`), prints "locked", keeps it for <ms> milliseconds with
 * its event loop idle, commits, prints "released" and exits.
 *
 * @module
 */

import type { DriverName } from "../mod.ts";
import { openWith } from "./_helpers.ts";

const [driver, path, ms] = (globalThis as unknown as { process: { argv: string[] } }).process
  .argv.slice(2);
const out = (globalThis as unknown as { process: { stdout: { write(s: string): void } } }).process
  .stdout;
const db = openWith(driver as DriverName, path!);
db.exec("begin immediate");
out.write("locked\n");
await new Promise((resolve) => setTimeout(resolve, Number(ms)));
db.exec("commit");
out.write("released\n");
db.close();
