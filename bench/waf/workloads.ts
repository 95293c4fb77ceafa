// The requests of the WAF benchmark: a browser-like GET (query arguments, cookies, the headers a
// browser sends) and a 1 KB urlencoded form POST, both benign — every engine must pass them with
// 200 at paranoia levels 1 and 2, or the benchmark would measure 403s — and the attacks used to
// check that each engine really blocks. Each workload becomes a wrk Lua script (what wrk sends)
// and a node:http request (what the harness checks before measuring), from the same definition.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Path and query. */
  path: string;
  /** In the order sent; Host included (a name, as a browser sends it, not wrk's 127.0.0.1:PORT). */
  headers: [string, string][];
  body?: string;
}

export const WORKLOADS = ['get', 'post'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

const HOST = 'shop.example.com';

/** Headers a current desktop browser sends on a same-site navigation. */
const BROWSER_HEADERS: [string, string][] = [
  ['Host', HOST],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9,de;q=0.8'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Referer', `https://${HOST}/women/dresses?page=1`],
  ['Cookie', 'session_id=3f9a1c2e7b8d4f60a5e1c9b7d2f4a8e6; cart_id=c-20240611-83419; theme=light'],
  ['Upgrade-Insecure-Requests', '1'],
  ['Sec-Fetch-Dest', 'document'],
  ['Sec-Fetch-Mode', 'navigate'],
  ['Sec-Fetch-Site', 'same-origin'],
];

/** The origin path of the GET: a static 1 KB page (see ORIGIN_FILES). */
export const GET_PATH = '/products';
/** The origin path of the POST: answered by the origin with a short 200 (see originLocations). */
export const POST_PATH = '/account/profile';

/** ~1 KB (exactly FORM_BYTES) of application/x-www-form-urlencoded with 10 fields of a profile form. */
export const FORM_BYTES = 1024;

function formBody(): string {
  const fields: [string, string][] = [
    ['first_name', 'Maria'],
    ['last_name', 'Schneider'],
    ['email', 'maria.schneider@example.com'],
    ['phone', '030 1234567'],
    ['street', 'Hauptstrasse 12'],
    ['city', 'Berlin'],
    ['postcode', '10115'],
    ['country', 'DE'],
    ['newsletter', 'on'],
    ['about', ''], // filled below to reach FORM_BYTES
  ];
  // Plain prose: letters, spaces and full stops, which urlencoding leaves one byte each (a space
  // becomes "+"), and no other punctuation (CRS at PL2 counts special characters in arguments).
  const prose =
    'I have been a customer since two thousand and nineteen and mostly order summer dresses and linen shirts ' +
    'and walking shoes for the family. Please send the catalogue by post as well and keep me informed about the ' +
    'autumn collection and the sizes that come back in stock. Deliveries to the neighbour on the ground floor ' +
    'are fine when nobody is at home and the parcel box at the back of the house can be used on weekdays. ' +
    'Thank you for the quick answers last time. The exchange of the jacket went smoothly and the refund arrived ' +
    'within a week. Kind regards from Berlin. ';
  const room = FORM_BYTES - new URLSearchParams(fields).toString().length;
  fields[9][1] = prose.repeat(Math.ceil(room / prose.length)).slice(0, room).replace(/ $/, '.');
  const body = new URLSearchParams(fields).toString();
  if (body.length !== FORM_BYTES) throw new Error(`form body is ${body.length} bytes, expected ${FORM_BYTES}`);
  return body;
}

export function workload(name: WorkloadName): HttpRequest {
  if (name === 'get') {
    return {
      method: 'GET',
      path: `${GET_PATH}?category=women&q=summer+dresses&size=m&sort=price_asc&page=2`,
      headers: BROWSER_HEADERS,
    };
  }
  const body = formBody();
  return {
    method: 'POST',
    path: POST_PATH,
    headers: [
      ...BROWSER_HEADERS.filter(([n]) => n !== 'Referer' && !n.startsWith('Sec-Fetch')),
      ['Referer', `https://${HOST}${POST_PATH}`],
      ['Origin', `https://${HOST}`],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Sec-Fetch-Dest', 'document'],
      ['Sec-Fetch-Mode', 'navigate'],
      ['Sec-Fetch-Site', 'same-origin'],
    ],
    body,
  };
}

/**
 * Attacks every WAF row must block (403) and every row without a WAF must pass (200): a SQL
 * injection in a query argument (phase 2, ARGS_GET) and one in a form field (the request body
 * parsed: SecRequestBodyAccess is on).
 */
export function attacks(): { name: string; request: HttpRequest }[] {
  const get = workload('get');
  const post = workload('post');
  const sqli = "1' OR '1'='1' --";
  return [
    { name: 'SQLi in a query argument', request: { ...get, path: `${GET_PATH}?category=women&id=${encodeURIComponent(sqli)}` } },
    {
      name: 'SQLi in a form field',
      request: { ...post, body: post.body!.replace('postcode=10115', `postcode=${encodeURIComponent(sqli)}`) },
    },
  ];
}

/** Origin files served statically (written into the origin's document root). */
export const ORIGIN_FILES: Record<string, string> = {
  // A 1 KB HTML page (GET_PATH).
  products: `<!doctype html><html><head><title>Summer dresses</title></head><body>${'<p>A summer dress.</p>'.repeat(40)}</body></html>`.padEnd(1023, ' ') + '\n',
};

/** Origin locations added to the bench/proxy origin: the form POST is answered with a short 200. */
export const ORIGIN_LOCATIONS = `        location = ${POST_PATH} { default_type text/plain; return 200 "saved\\n"; }\n`;

function luaString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`not printable ASCII: ${JSON.stringify(s)}`);
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * What changes from request to request with `values: 'varied'`, as it does between real visitors:
 * the session cookie is new in every request (each from a visitor of its own), and so is the GET's
 * page number; the other headers, the path, the other arguments and the form recur.
 */
const SESSION_COOKIE = 'session_id=3f9a1c2e7b8d4f60a5e1c9b7d2f4a8e6';
const PAGE_ARGUMENT = 'page=2';

/**
 * Writes the wrk script for `r`; returns its path. `repeated`: the same request every time;
 * `varied`: with the session cookie and the page number new in each (see SESSION_COOKIE).
 */
export function writeWrkScript(dir: string, name: string, r: HttpRequest, values: 'repeated' | 'varied'): string {
  const lines = [
    `-- ${name} for bench/waf (generated; values ${values})`,
    `wrk.method = ${luaString(r.method)}`,
    `wrk.path = ${luaString(r.path)}`,
    ...r.headers.map(([n, v]) => `wrk.headers[${luaString(n)}] = ${luaString(v)}`),
  ];
  if (r.body !== undefined) lines.push(`wrk.body = ${luaString(r.body)}`);
  if (values === 'varied') {
    const cookie = r.headers.find(([n]) => n === 'Cookie')?.[1];
    if (cookie === undefined || !cookie.includes(SESSION_COOKIE)) throw new Error(`${name}: no ${SESSION_COOKIE} cookie to vary`);
    const [before, after] = cookie.split(SESSION_COOKIE);
    const page = r.path.split(PAGE_ARGUMENT);
    lines.push(
      'local n = 0',
      'request = function()',
      '  n = n + 1',
      // 32 hex digits, as the fixed session id has: the counter, then a multiplicative hash of it.
      `  wrk.headers["Cookie"] = ${luaString(before + 'session_id=')} .. string.format("%08x%08x%08x%08x", n, (n * 2654435761) % 4294967296, (n * 40503) % 4294967296, (n * 69069 + 1) % 4294967296) .. ${luaString(after)}`,
      page.length === 2 ? `  return wrk.format(nil, ${luaString(page[0] + 'page=')} .. (n % 100000) .. ${luaString(page[1])})` : '  return wrk.format(nil, nil)',
      'end',
    );
  }
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Sends `r` once to 127.0.0.1:port on a fresh connection; the status and body. */
export function send(port: number, r: HttpRequest, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: [string, string][] = [...r.headers, ['Connection', 'close']];
    if (r.body !== undefined) headers.push(['Content-Length', String(Buffer.byteLength(r.body))]);
    const req = http.request(
      { host: '127.0.0.1', port, method: r.method, path: r.path, headers: headers.flat(), agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(r.body);
  });
}

/**
 * A request that only CRS's paranoia level 2 rules block: an HTML tag in a search term, which
 * 941320 (XSS, HTML tag handler) and 942131 (SQL, boolean comparison on `>`/`<`) catch, both PL 2,
 * for a score of 10 — 403 at PL 2, 200 at PL 1 (no PL 1 rule matches it) and without a WAF. It
 * shows that the paranoia level reached the engine.
 */
export function paranoiaProbe(): { name: string; request: HttpRequest } {
  const get = workload('get');
  return { name: 'an HTML tag in a query argument (PL 2 rules only)', request: { ...get, path: `${GET_PATH}?category=women&q=${encodeURIComponent('<i>sale</i>')}` } };
}
