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

/**
 * How many bytes of a body a statement reads for `bodyBytes`: the next power of two, so that
 * few statements are prepared; {@linkcode bodyStart} cuts the rest.
 */
export function bodyReadLength(bodyBytes: number): number {
  return bodyBytes === 0 ? 0 : 2 ** Math.ceil(Math.log2(bodyBytes));
}

/** The first `bodyBytes` bytes of `body`: all of it when `bodyBytes` is undefined or larger. */
export function bodyStart(body: Uint8Array, bodyBytes: number | undefined): Uint8Array {
  return bodyBytes !== undefined && body.length > bodyBytes ? body.subarray(0, bodyBytes) : body;
}
