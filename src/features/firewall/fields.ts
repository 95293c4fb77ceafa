// Request fields of the standard `http` scheme (SPEC.md 15), computed from the proxy's request
// context only when a rule reads them. Header values and the request target arrive from Node as
// latin1 strings, which are exactly the byte strings the rules engine works on.
import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../proxy/context.ts';
import { parseIp } from '../../rules/ip.ts';
import type { Field, Scheme } from '../../rules/scheme.ts';
import { sortedMap, type ByteMap, type Bytes, type MaybeValue } from '../../rules/values.ts';

type Extractor = (ctx: RequestContext) => MaybeValue;

/** One extractor per field of `scheme`, by field index; fields frontline does not know are absent. */
export function fieldExtractors(scheme: Scheme): Extractor[] {
  return scheme.fields.map((field: Field) => EXTRACTORS[field.name] ?? absent);
}

const absent: Extractor = () => undefined;

function header(ctx: RequestContext, name: string): Bytes | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function query(ctx: RequestContext): Bytes {
  const q = ctx.url.indexOf('?');
  return q === -1 ? '' : ctx.url.slice(q + 1);
}

function rawPath(ctx: RequestContext): Bytes {
  const q = ctx.url.indexOf('?');
  return q === -1 ? ctx.url : ctx.url.slice(0, q);
}

/** The normalised path with the query as received. */
function uri(ctx: RequestContext): Bytes {
  const q = ctx.url.indexOf('?');
  return q === -1 ? ctx.path : ctx.path + ctx.url.slice(q);
}

/** Lower-cased text after the last dot of the last segment; empty when there is none or the dot leads the segment. */
export function pathExtension(path: Bytes): Bytes {
  const segment = path.slice(path.lastIndexOf('/') + 1);
  const dot = segment.lastIndexOf('.');
  if (dot <= 0) return '';
  return asciiLower(segment.slice(dot + 1));
}

function asciiLower(bytes: Bytes): Bytes {
  return bytes.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Query arguments in request order, not decoded: names, values, and name → values. */
function args(ctx: RequestContext): { names: Bytes[]; values: Bytes[]; map: ByteMap } {
  const names: Bytes[] = [];
  const values: Bytes[] = [];
  const byName = new Map<Bytes, Bytes[]>();
  const q = query(ctx);
  if (q !== '') {
    for (const part of q.split('&')) {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      names.push(name);
      values.push(value);
      const list = byName.get(name);
      if (list === undefined) byName.set(name, [value]);
      else list.push(value);
    }
  }
  return { names, values, map: sortedMap(byName) };
}

/** Header names and values as received, and lower-case name → values. */
function headers(ctx: RequestContext): { names: Bytes[]; values: Bytes[]; map: ByteMap } {
  const names: Bytes[] = [];
  const values: Bytes[] = [];
  const byName = new Map<Bytes, Bytes[]>();
  const raw = ctx.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    names.push(name);
    values.push(raw[i + 1]);
    const key = name.toLowerCase();
    const list = byName.get(key);
    if (list === undefined) byName.set(key, [raw[i + 1]]);
    else list.push(raw[i + 1]);
  }
  return { names, values, map: sortedMap(byName) };
}

/** Cookie names URL-decoded, values untouched; values of equal names merged. */
function cookies(ctx: RequestContext): ByteMap | undefined {
  const header = ctx.headers.cookie;
  if (header === undefined) return undefined;
  const byName = new Map<Bytes, Bytes[]>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = percentDecode(part.slice(0, eq).trim());
    const value = part.slice(eq + 1).trim();
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [value]);
    else list.push(value);
  }
  return sortedMap(byName);
}

function percentDecode(text: Bytes): Bytes {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Accept-Language tags by descending weight (default 1; equal weights keep their order), `*` left out. */
function acceptedLanguages(ctx: RequestContext): Bytes[] | undefined {
  const header = ctx.headers['accept-language'];
  if (header === undefined) return undefined;
  const tags: { tag: Bytes; weight: number; order: number }[] = [];
  header.split(',').forEach((entry, order) => {
    const [tag, ...params] = entry.split(';').map((s) => s.trim());
    if (tag === '' || tag === '*') return;
    let weight = 1;
    for (const param of params) if (param.startsWith('q=')) weight = Number(param.slice(2)) || 0;
    tags.push({ tag, weight, order });
  });
  tags.sort((a, b) => b.weight - a.weight || a.order - b.order);
  return tags.map((t) => t.tag);
}

function clientIp(ctx: RequestContext): MaybeValue {
  const address = ctx.clientAddress.startsWith('::ffff:') && ctx.clientAddress.includes('.') ? ctx.clientAddress.slice(7) : ctx.clientAddress;
  return parseIp(address);
}

const HTTP_VERSIONS: Readonly<Record<string, string>> = { '1.0': 'HTTP/1.0', '1.1': 'HTTP/1.1', '2.0': 'HTTP/2' };

const EXTRACTORS: Readonly<Record<string, Extractor>> = {
  'http.cookie': (ctx) => header(ctx, 'cookie'),
  'http.host': (ctx) => ctx.host,
  'http.referer': (ctx) => header(ctx, 'referer'),
  'http.user_agent': (ctx) => header(ctx, 'user-agent'),
  'http.x_forwarded_for': (ctx) => header(ctx, 'x-forwarded-for'),
  'http.request.method': (ctx) => ctx.method,
  'http.request.version': (ctx) => HTTP_VERSIONS[ctx.httpVersion] ?? `HTTP/${ctx.httpVersion}`,
  'http.request.timestamp.sec': () => Math.floor(Date.now() / 1000),
  'http.request.timestamp.msec': () => Date.now(),
  'http.request.uri': uri,
  'http.request.uri.path': (ctx) => ctx.path,
  'http.request.uri.path.extension': (ctx) => pathExtension(ctx.path),
  'http.request.uri.query': query,
  'http.request.full_uri': (ctx) => `${ctx.scheme}://${ctx.host}${uri(ctx)}`,
  'raw.http.request.uri': (ctx) => ctx.url,
  'raw.http.request.uri.path': rawPath,
  'raw.http.request.uri.path.extension': (ctx) => pathExtension(rawPath(ctx)),
  'raw.http.request.uri.query': query,
  'raw.http.request.full_uri': (ctx) => `${ctx.scheme}://${ctx.host}${ctx.url}`,
  'http.request.uri.args': (ctx) => args(ctx).map,
  'http.request.uri.args.names': (ctx) => args(ctx).names,
  'http.request.uri.args.values': (ctx) => args(ctx).values,
  'raw.http.request.uri.args': (ctx) => args(ctx).map,
  'raw.http.request.uri.args.names': (ctx) => args(ctx).names,
  'raw.http.request.uri.args.values': (ctx) => args(ctx).values,
  'http.request.headers': (ctx) => headers(ctx).map,
  'http.request.headers.names': (ctx) => headers(ctx).names,
  'http.request.headers.values': (ctx) => headers(ctx).values,
  'http.request.headers.truncated': () => false,
  'http.request.cookies': cookies,
  'http.request.accepted_languages': acceptedLanguages,
  ssl: (ctx) => ctx.scheme === 'https',
  'ip.src': clientIp,
  'cf.ray_id': (ctx) => ctx.id,
  'cf.random_seed': () => randomBytes(32).toString('latin1'),
};
