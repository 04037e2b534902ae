/**
 * A small seeded pseudo-random generator (mulberry32), so that randomised tests reproduce.
 *
 * @module
 */

/**
 * A generator of numbers in [0, 1) from a seed.
 *
 * @param seed Any 32-bit integer.
 * @returns The next number on each call.
 */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
