/**
 * The commands that change a queue: `redrive`, `purge-dead`, `send` and `receive`.
 *
 * @module
 */

import { concatBytes } from "../src/_bytes.ts";
import process from "node:process";
import { encodeJob } from "../jobs/envelope.ts";
import type { Message } from "../src/message.ts";
import type { QueueLike } from "../src/queue_like.ts";
import { UsageError, wholeNumber } from "./args.ts";
import {
  type Command,
  note,
  positionals,
  print,
  printJson,
  TARGET_FLAGS,
  TARGET_HELP,
  withTarget,
} from "./command.ts";
import { messageJson, messageTable } from "./messages.ts";

/** `qite redrive <queue> [ids…]`. */
export const redrive: Command = {
  name: "redrive",
  args: "<queue> [ids…]",
  summary: "makes dead messages receivable again (all, or the ids given)",
  about: "Makes a queue's dead messages receivable again, with their receive count reset: every\n" +
    "dead message, or only the ids given (ids that are not dead are left alone).",
  flags: TARGET_FLAGS,
  flagHelp: TARGET_HELP,
  run: (context) => {
    const [name, ...ids] = positionals("redrive", context, 1, Infinity);
    return withTarget("redrive", context, async (target) => {
      const count = await target.queue(name!).redrive(ids.length === 0 ? undefined : ids);
      if (context.values.json) printJson({ redriven: count });
      else print(`redrove ${plural(count, "dead message")} of ${name}`);
      return 0;
    });
  },
};

/** `qite purge-dead <queue>`. */
export const purgeDead: Command = {
  name: "purge-dead",
  args: "<queue>",
  summary: "deletes the dead messages of a queue",
  about: "Deletes a queue's dead messages, and only those. It does not ask first.",
  flags: TARGET_FLAGS,
  flagHelp: TARGET_HELP,
  run: (context) => {
    const [name] = positionals("purge-dead", context, 1, 1);
    return withTarget("purge-dead", context, async (target) => {
      const count = await target.queue(name!).purgeDead();
      if (context.values.json) printJson({ purged: count });
      else print(`purged ${plural(count, "dead message")} of ${name}`);
      return 0;
    });
  },
};

/** `qite send <queue> <body>`. */
export const send: Command = {
  name: "send",
  args: "<queue> <body|->",
  summary: "sends a message (- reads the body from standard input)",
  about: "Sends a message and prints its id. The body is the argument as UTF-8 text, or with -\n" +
    "the bytes of standard input, unchanged. With --job NAME it is a job of that name (goqite's\n" +
    "format) whose body is the one given. A body that starts with - goes after --:\n" +
    "qite send emails -- -hello.",
  flags: {
    ...TARGET_FLAGS,
    delay: { type: "string" },
    priority: { type: "string" },
    job: { type: "string" },
  },
  flagHelp: [
    ["--delay MS", "hides the message for this long first (0)"],
    ["--priority N", "higher is received first; --priority=-1 for a negative one (0)"],
    ["--job NAME", "sends a job of this name, for the job runner"],
    ...TARGET_HELP,
  ],
  run: async (context) => {
    const [name, text] = positionals("send", context, 2, 2);
    const { delay, priority, job } = context.values;
    const options = {
      ...(typeof delay === "string" ? { delay: wholeNumber("send", "delay", delay) } : {}),
      ...(typeof priority === "string"
        ? { priority: wholeNumber("send", "priority", priority, Number.MIN_SAFE_INTEGER) }
        : {}),
    };
    if (job === "") throw new UsageError("--job must name the job", "send");
    const bytes: Uint8Array | string = text === "-" ? await readStdin() : text!;
    const body = typeof job === "string" ? encodeJob(job, bytes) : bytes;
    return withTarget("send", context, async (target) => {
      const id = await target.queue(name!).send({ body, ...options });
      if (context.values.json) printJson({ id: id ?? null });
      else print(id ?? "sent (the server does not tell the id)");
      return 0;
    });
  },
};

/** `qite receive <queue>`. */
export const receive: Command = {
  name: "receive",
  args: "<queue>",
  summary: "receives a message; deletes it only with --delete",
  about: "Receives the next visible message and shows it whole. Without --delete the message\n" +
    "stays in the queue: it is hidden for the queue's timeout, then visible again, and this\n" +
    "receive counts towards its maximum receive count (after which it is dead). With --delete\n" +
    "it is deleted once shown. Prints nothing to standard output (null with --json) and exits\n" +
    "with status 0 when no message is visible, or none comes within --wait.",
  flags: { ...TARGET_FLAGS, delete: { type: "boolean" }, wait: { type: "string" } },
  flagHelp: [
    ["--delete", "deletes the message after showing it"],
    ["--wait MS", "waits up to this long for a message (0: does not wait)"],
    ...TARGET_HELP,
  ],
  run: (context) => {
    const [name] = positionals("receive", context, 1, 1);
    const { wait } = context.values;
    const waitMs = typeof wait === "string" ? wholeNumber("receive", "wait", wait) : 0;
    return withTarget("receive", context, async (target) => {
      const queue = target.queue(name!);
      const message = await receiveWithin(queue, waitMs);
      if (message === undefined) {
        if (context.values.json) printJson(null);
        note(
          waitMs > 0
            ? `no message came in ${name} within ${waitMs} ms`
            : `no message is visible in ${name}`,
        );
        return 0;
      }
      const deleted = context.values.delete === true ? await queue.delete(message) : false;
      if (context.values.json) printJson({ ...messageJson(message), deleted });
      else print(messageTable([message], { whole: true }));
      if (context.values.delete !== true) {
        note(
          `not deleted: ${message.id} is visible again in ${queue.timeout} ms (the queue's ` +
            `timeout), receive ${message.received} of ${queue.maxReceive}`,
        );
      } else if (!deleted) {
        note(`${message.id} was not deleted: its timeout passed and it was received again`);
        return 1;
      }
      return 0;
    });
  },
};

/** The next message; waiting up to `wait` ms for one when `wait` is not 0. */
async function receiveWithin(queue: QueueLike, wait: number): Promise<Message | undefined> {
  if (wait === 0) return queue.receive();
  const signal = AbortSignal.timeout(wait);
  try {
    return await queue.receiveAndWait({ signal });
  } catch (error) {
    if (signal.aborted) return undefined;
    throw error;
  }
}

/** Everything on standard input, as bytes. */
async function readStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }
  return concatBytes(chunks);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
