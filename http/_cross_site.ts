/**
 * Whether a request comes from another site's page, as the visitor's browser says. A page of any
 * site can make a browser send a form or a `text/plain` POST (and a GET) to any address without
 * asking the server first; the browser marks such requests with `Sec-Fetch-Site` and `Origin`.
 * Clients that are not browsers (goqite's, curl, qite's own) send neither.
 *
 * @module
 */

/**
 * Why `request` is refused as cross-site, or `undefined` when it is not cross-site:
 * `Sec-Fetch-Site` other than `same-origin` or `none` (a typed address or a bookmark), or an
 * `Origin` whose host is not the request's (older browsers send no `Sec-Fetch-Site`). Hosts are
 * compared rather than whole origins so that a proxy that ends TLS in front of the server does
 * not break the check.
 */
export function crossSiteReason(request: Request, url: URL): string | undefined {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  }
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  return host === url.host ? undefined : "cross-site request refused (Origin)";
}
