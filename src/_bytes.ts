/**
 * Joining byte chunks, as bodies and streams arrive.
 *
 * @module
 */

/** The chunks, in order, as one new array (a copy even when there is one chunk). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
