/**
 * A reliability consumer: receives, records (id, payload, consumer, time), optionally works a
 * while, deletes; until the stop file appears.
 * Usage: consumer.ts --db P --name N --id I --out FILE --stop FILE --timeout MS [--work MS]
 *   [--interval MS] [--schema S --client C (PostgreSQL)]
 *
 * @module
 */

import { args, exit, openQueue, recorder, runtime, sleep, stopFile } from "./_child.ts";

const a = args();
const { queue, close } = await openQueue(a, { timeout: Number(a.timeout), maxReceive: 1000 });
const interval = Number(a.interval ?? 100);
const record = recorder(a.out!);
const signal = stopFile(a.stop!);
const work = Number(a.work ?? 0);
let errors = 0;
while (!signal.aborted) {
  let message;
  try {
    message = await queue.receiveAndWait({ signal, interval });
  } catch (error) {
    if (signal.aborted) break;
    errors++;
    record({ error: String(error), consumer: a.id });
    continue;
  }
  record({
    id: message.id,
    payload: new TextDecoder().decode(message.body),
    received: message.received,
    consumer: a.id,
    runtime: runtime(),
    t: Date.now(),
  });
  if (work > 0) await sleep(Math.floor(Math.random() * work));
  try {
    const deleted = await queue.delete(message);
    record({ deleted: message.id, ok: deleted, consumer: a.id, t: Date.now() });
  } catch (error) {
    errors++;
    record({ error: String(error), consumer: a.id });
  }
}
record({ done: true, errors, consumer: a.id });
await close();
exit();
