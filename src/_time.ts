/**
 * Timestamps in goqite's format and message ids.
 *
 * Every timestamp is fixed-width UTC text with exactly three fraction digits
 * (`2026-11-24T22:09:40.123Z`), so comparing text compares time.
 *
 * @module
 */

/**
 * The longest delay, timeout or extension qite accepts, in milliseconds: Go's longest
 * `time.Duration` (2^63 − 1 ns, about 292 years) rounded up to a whole millisecond, so that every
 * delay goqite accepts is accepted here too.
 */
export const MAX_DURATION_MS = 9_223_372_036_855;

let lastMs = Number.NaN;
let lastText = "";

/** Formats milliseconds since the epoch as goqite's timestamp text. */
export function formatTime(ms: number): string {
  if (ms === lastMs) return lastText;
  const text = new Date(ms).toISOString();
  if (text.length !== 24) {
    throw new RangeError(
      `Cannot format time as it must be from year 0 to 9999: current value is ${text}`,
    );
  }
  lastMs = ms;
  lastText = text;
  return text;
}

/** Parses goqite's timestamp text back to milliseconds since the epoch. */
export function parseTime(text: string): number {
  return Date.parse(text);
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const RANDOM_BYTES = 10;
const POOL_IDS = 256;
const pool = new Uint8Array(RANDOM_BYTES * POOL_IDS);
let poolIndex = POOL_IDS;
/** The time and random part of the last id made, to keep ids of one millisecond in order. */
let lastIdMs = 0;
const lastRandom = new Uint8Array(RANDOM_BYTES);

/**
 * Returns a new message id in goqite's shape, `m_` and 32 lowercase hex digits (16 bytes), laid
 * out like a UUIDv7: 6 bytes of the current time in milliseconds, then 10 random bytes (80 bits,
 * so ids never collide). Ids made later sort later, also within one millisecond of one process
 * (there the random part of the previous id is counted up by one, as in a monotonic ULID), so
 * new rows land at the end of the primary key's B-tree instead of at random pages, and the
 * PostgreSQL engine breaks ties of equal `created` times (separate sends in one microsecond) in
 * send order. goqite's random ids and
 * these share one table.
 */
export function newId(): string {
  let ms = Date.now();
  if (ms > lastIdMs) {
    if (poolIndex === POOL_IDS) {
      crypto.getRandomValues(pool);
      poolIndex = 0;
    }
    const offset = RANDOM_BYTES * poolIndex++;
    lastRandom.set(pool.subarray(offset, offset + RANDOM_BYTES));
    lastIdMs = ms;
  } else {
    ms = lastIdMs;
    let i = RANDOM_BYTES - 1;
    while (i >= 0 && lastRandom[i] === 255) lastRandom[i--] = 0;
    if (i >= 0) lastRandom[i]!++;
    else ms = ++lastIdMs; // 2^80 ids in one millisecond: borrow the next one.
  }
  let id = "m_" + ms.toString(16).padStart(12, "0");
  for (let i = 0; i < RANDOM_BYTES; i++) id += HEX[lastRandom[i]!];
  return id;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (at once if it
 * already has).
 */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      if (signal?.aborted) reject(signal.reason);
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
