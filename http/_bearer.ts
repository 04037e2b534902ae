/**
 * The standalone server's bearer-token check, in constant time.
 *
 * @module
 */

const encoder = new TextEncoder();

function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * An `authorize` hook that lets a request through only with `Authorization: Bearer <token>`
 * (the scheme in any case), and answers 401 with `WWW-Authenticate` otherwise.
 *
 * The presented credentials and the token are compared as SHA-256 digests, with every byte
 * looked at: the time taken does not depend on where they differ, nor on the token's length
 * (only on the length of what the client sent, which the client knows).
 *
 * @param token The secret; at least one character.
 * @returns The hook.
 */
export function bearerAuthorizer(token: string): (request: Request) => Promise<true | Response> {
  const expected = sha256(token);
  return async (request) => {
    const header = request.headers.get("authorization") ?? "";
    const scheme = /^bearer +/i.exec(header);
    const presented = await sha256(scheme === null ? "" : header.slice(scheme[0].length));
    const a = new Uint8Array(await expected);
    const b = new Uint8Array(presented);
    let difference = scheme === null ? 1 : 0;
    for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
    if (difference === 0) return true;
    return new Response("unauthorized\n", {
      status: 401,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
        "www-authenticate": 'Bearer realm="qite"',
      },
    });
  };
}
