/**
 * Timestamps in goqite's format and message ids.
 *
 * Every timestamp is fixed-width UTC text with exactly three fraction digits
 * (`2026-11-24T22:09:40.123Z`), so comparing text compares time.
 *
 * @module
 */

/** The longest delay, timeout or extension qite accepts: 100 years, in milliseconds. */
export const MAX_DURATION_MS = 3_155_760_000_000;

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
const POOL_IDS = 256;
const pool = new Uint8Array(16 * POOL_IDS);
let poolIndex = POOL_IDS;

/** Returns a new message id: `m_` and 32 lowercase hex digits from 16 random bytes. */
export function newId(): string {
  if (poolIndex === POOL_IDS) {
    crypto.getRandomValues(pool);
    poolIndex = 0;
  }
  const offset = 16 * poolIndex++;
  let id = "m_";
  for (let i = offset; i < offset + 16; i++) id += HEX[pool[i]!];
  return id;
}
