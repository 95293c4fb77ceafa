// Route matching: host (exact, then "*.domain" wildcards, then routes without a host), then the
// longest matching path prefix. Compiled once per configuration; a lookup is a Map get and a
// short scan of prefixes sorted longest first.

/** What a route needs for matching; the router hands back the whole route object. */
export interface Routable {
  host?: string;
  path: string;
}

export class Router<R extends Routable> {
  readonly #exact = new Map<string, R[]>();
  /** "*.example.com" stored as ".example.com", longest suffix first. */
  readonly #wildcards: { suffix: string; routes: R[] }[] = [];
  readonly #any: R[] = [];

  constructor(routes: readonly R[]) {
    for (const route of routes) {
      const host = route.host;
      if (host === undefined || host === '*') this.#any.push(route);
      else if (host.startsWith('*.')) {
        const suffix = host.slice(1);
        let entry = this.#wildcards.find((w) => w.suffix === suffix);
        if (!entry) this.#wildcards.push((entry = { suffix, routes: [] }));
        entry.routes.push(route);
      } else {
        const list = this.#exact.get(host) ?? [];
        list.push(route);
        this.#exact.set(host, list);
      }
    }
    const longestFirst = (a: R, b: R) => b.path.length - a.path.length;
    for (const list of this.#exact.values()) list.sort(longestFirst);
    for (const w of this.#wildcards) w.routes.sort(longestFirst);
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    this.#any.sort(longestFirst);
  }

  /** host: lower case, without port. path: the request path (no query). */
  match(host: string, path: string): R | undefined {
    const exact = this.#exact.get(host);
    if (exact) {
      const r = byPrefix(exact, path);
      if (r) return r;
    }
    for (const w of this.#wildcards) {
      // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com".
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) {
        const r = byPrefix(w.routes, path);
        if (r) return r;
      }
    }
    return byPrefix(this.#any, path);
  }
}

function byPrefix<R extends Routable>(routes: readonly R[], path: string): R | undefined {
  for (const r of routes) {
    const p = r.path;
    if (!path.startsWith(p)) continue;
    // "/api" matches "/api", "/api/x" and "/api?..." but not "/apix"; "/" and "/api/" match any continuation.
    if (path.length === p.length || p.endsWith('/') || path.charCodeAt(p.length) === 47 /* / */) return r;
  }
  return undefined;
}
