// Header rewriting at the proxy boundary (RFC 9110 §7.6): hop-by-hop fields never cross it in
// either direction, and the request carries where it came from (X-Forwarded-*, Forwarded, Via).
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from './context.ts';

/** Fields that describe one connection, not the message (plus `expect`: frontline answers 100-continue itself). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
]);

/** Names listed in a Connection header are hop-by-hop for that message too. */
function connectionTokens(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const joined = typeof value === 'string' ? value : value.join(',');
  if (joined.indexOf(',') === -1) {
    const t = joined.trim().toLowerCase();
    return t === 'close' || t === 'keep-alive' || t === '' ? undefined : [t];
  }
  return joined.split(',').map((t) => t.trim().toLowerCase());
}

export const VIA_NAME = 'frontline';

/** This hop's Via entry for a request of `httpVersion` ("1.0", "1.1", "2.0"). */
export function viaEntry(httpVersion: string): string {
  return httpVersion === '1.1' ? VIA_11 : httpVersion === '2.0' ? VIA_2 : `${httpVersion} ${VIA_NAME}`;
}
const VIA_11 = `1.1 ${VIA_NAME}`;
const VIA_2 = `2 ${VIA_NAME}`;

/**
 * The headers sent upstream: the client's, without hop-by-hop fields and HTTP/2 pseudo-headers,
 * with Host per the route and the forwarding fields appended to any the client sent.
 */
export function upstreamRequestHeaders(
  ctx: RequestContext,
  hostHeader: string,
  requestIdHeader: string,
): Record<string, string | string[]> {
  const src = ctx.headers;
  const listed = connectionTokens(src.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in src) {
    if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name)) continue;
    if (listed !== undefined && listed.includes(name)) continue;
    const value = src[name];
    if (value !== undefined) out[name] = value;
  }
  const clientHost = src.host ?? (src[':authority'] as string | undefined) ?? ctx.host;
  out.host = hostHeader === 'preserve' ? clientHost : hostHeader;

  const ip = ctx.clientAddress;
  const xff = src['x-forwarded-for'];
  out['x-forwarded-for'] = xff ? `${xff}, ${ip}` : ip;
  out['x-forwarded-proto'] = ctx.scheme;
  out['x-forwarded-host'] = clientHost;
  const node = ip.indexOf(':') === -1 ? ip : `"[${ip}]"`;
  const forwarded = `for=${node};host=${quoteIfNeeded(clientHost)};proto=${ctx.scheme}`;
  const prior = src.forwarded;
  out.forwarded = prior ? `${prior}, ${forwarded}` : forwarded;
  const via = viaEntry(ctx.httpVersion);
  const priorVia = src.via;
  out.via = priorVia ? `${priorVia}, ${via}` : via;
  out[requestIdHeader] = ctx.id;
  return out;
}

let lastValue = '';
let lastQuoted = '';

/** A Forwarded parameter value is a token or a quoted string (RFC 7239 §4). Most requests name the same host: the last answer is kept. */
function quoteIfNeeded(value: string): string {
  if (value === lastValue) return lastQuoted;
  let quoted = value;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const token =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126;
    if (!token) {
      quoted = `"${value.replace(/["\\]/g, '\\$&')}"`;
      break;
    }
  }
  lastValue = value;
  lastQuoted = quoted;
  return quoted;
}

/**
 * A field name in lower case, from a cache of names seen before (the same few dozen names come
 * on every request and response); bounded so that a peer cannot grow it without end.
 */
const lowerNames = new Map<string, string>();
export function lowerFieldName(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size < 1024) lowerNames.set(name, lower);
  }
  return lower;
}
