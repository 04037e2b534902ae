/**
 * Secrets for the server and the dashboard: comparing a presented token with the expected one in
 * constant time, and making random session ids.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Whether `presented` equals `expected`, in time that depends on neither: both are hashed with
 * SHA-256 and the digests compared byte by byte without an early exit, so neither the position
 * of the first difference nor the lengths show in the timing.
 *
 * @param presented What the client sent.
 * @param expected The secret.
 * @returns Whether they are the same string.
 */
export async function sameSecret(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * Whether two strings of public length are equal, without an early exit (for tokens the server
 * made itself, whose length is no secret).
 */
export function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** 32 random bytes as base64url (43 characters). */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}
