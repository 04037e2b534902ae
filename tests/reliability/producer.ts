/**
 * A reliability producer: sends `count` messages with unique payloads and records each send
 * after it returned. Usage: producer.ts --db P --name N --id I --count M --out FILE [--sync S]
 *
 * @module
 */

import { open, Queue, type Synchronous } from "../../mod.ts";
import { args, recorder, runtime } from "./_child.ts";

const a = args();
const db = open(a.db!, { synchronous: (a.sync ?? "NORMAL") as Synchronous });
const queue = new Queue({ db, name: a.name! });
const record = recorder(a.out!);
let errors = 0;
for (let i = 0; i < Number(a.count); i++) {
  const payload = `${a.id}:${i}:${crypto.randomUUID()}`;
  try {
    const id = await queue.send({ body: payload });
    record({ id, payload, producer: a.id, runtime: runtime() });
  } catch (error) {
    errors++;
    record({ error: String(error), producer: a.id });
  }
}
record({ done: true, errors, producer: a.id });
db.close();
