/**
 * A reliability producer: sends `count` messages with unique payloads and records each send
 * after it returned. Usage: producer.ts --db P --name N --id I --count M --out FILE [--sync S]
 *   [--pause MS] [--schema S --client C (PostgreSQL)]
 *
 * @module
 */

import { args, exit, openQueue, recorder, runtime, sleep } from "./_child.ts";

const a = args();
const { queue, close } = await openQueue(a, a.sync === undefined ? {} : { sync: a.sync });
const pause = Number(a.pause ?? 0);
const record = recorder(a.out!);
let errors = 0;
for (let i = 0; i < Number(a.count); i++) {
  const payload = `${a.id}:${i}:${crypto.randomUUID()}`;
  try {
    const t = Date.now();
    const id = await queue.send({ body: payload });
    record({ id, payload, producer: a.id, runtime: runtime(), t });
  } catch (error) {
    errors++;
    record({ error: String(error), producer: a.id });
  }
  if (pause > 0) await sleep(Math.floor(Math.random() * pause));
}
record({ done: true, errors, producer: a.id });
await close();
exit();
