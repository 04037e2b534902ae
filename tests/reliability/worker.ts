/**
 * A reliability job runner: runs "work" jobs that sleep a little and record their completion.
 * Usage: worker.ts --db P --name N --id I --out FILE --stop FILE --timeout MS
 *
 * @module
 */

import { Runner } from "../../jobs/mod.ts";
import { args, openQueue, recorder, runtime, sleep, stopFile } from "./_child.ts";

const a = args();
const { queue, close } = await openQueue(a, { timeout: Number(a.timeout), maxReceive: 1000 });
const record = recorder(a.out!);
const errors: string[] = [];
const runner = new Runner({
  queue,
  limit: 8,
  extend: Number(a.timeout),
  logger: {
    info: (message, fields) => {
      if (/Cannot/.test(message)) errors.push(`${message} ${JSON.stringify(fields)}`);
    },
  },
});
runner.register("work", async (body, job) => {
  record({ start: new TextDecoder().decode(body), worker: a.id });
  await sleep(5 + Math.floor(Math.random() * 20));
  record({ job: new TextDecoder().decode(body), id: job.id, worker: a.id, runtime: runtime() });
});
await runner.start({ signal: stopFile(a.stop!) });
record({ done: true, errors: errors.length, worker: a.id, messages: errors });
await close();
