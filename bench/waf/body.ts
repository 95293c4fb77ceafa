// Request-data parsers (src/waf/body/) on typical bodies, beside what Node has built in for the
// same bytes: URLSearchParams for the form, JSON.parse (plus the same flattening) for JSON. The
// built-ins do less (no ModSecurity semantics, no binary strings, no strict multipart checks),
// so they are a floor to compare with, not contenders.
//
//   node bench/waf/body.ts [--ms 300]
import { parseUrlEncoded } from '../../src/waf/body/urlencoded.ts';
import { parseMultipart } from '../../src/waf/body/multipart.ts';
import { parseJson } from '../../src/waf/body/json.ts';
import { parseXml } from '../../src/waf/body/xml.ts';
import { parseCookies } from '../../src/waf/body/cookies.ts';

const args = process.argv.slice(2);
const windowMs = args.includes('--ms') ? Number(args[args.indexOf('--ms') + 1]) : 300;

// A 1 KB form as a browser sends it: short fields, some escapes.
const fields: string[] = [];
for (let i = 0; fields.join('&').length < 1000; i++) {
  fields.push(`field_${i}=${encodeURIComponent(`value ${i} with spaces, a comma & an ampersand é`).replace(/%20/g, '+')}`);
}
const form = fields.join('&').slice(0, 1024);

const multipartType = 'multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW';
const multipart = [
  '------WebKitFormBoundary7MA4YWxkTrZu0gW',
  'Content-Disposition: form-data; name="username"',
  '',
  'alice',
  '------WebKitFormBoundary7MA4YWxkTrZu0gW',
  'Content-Disposition: form-data; name="comment"',
  '',
  'Hello there,\r\nthis is a two-line comment.',
  '------WebKitFormBoundary7MA4YWxkTrZu0gW',
  'Content-Disposition: form-data; name="avatar"; filename="avatar.txt"',
  'Content-Type: text/plain',
  '',
  'x'.repeat(400),
  '------WebKitFormBoundary7MA4YWxkTrZu0gW--',
  '',
].join('\r\n');

const json = JSON.stringify({
  user: { name: 'alice', email: 'alice@example.com', roles: ['admin', 'user'] },
  settings: { theme: 'dark', notifications: true, limit: 25 },
  items: [{ id: 1, qty: 2 }, { id: 7, qty: 1 }],
  note: 'caf\u00e9 \u2603',
});
const jsonBytes = Buffer.from(json, 'utf8').toString('latin1');

const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<order id="42" currency="EUR">\n  <customer type="person">Alice &amp; Bob</customer>\n' +
  '  <item sku="A-1" qty="2">Widget</item>\n  <item sku="B-7" qty="1"><![CDATA[Gadget <large>]]></item>\n  <note>Leave at the door</note>\n</order>\n';

const cookie = '_ga=GA1.2.1234567890.1600000000; session=abc123def456; theme=dark; consent=yes; lang=en-GB';

/** Flattens parsed JSON as parseJson names it, for the built-in floor. */
function flatten(value: unknown, name: string, out: Array<[string, string]>): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${name}.${i}`, out));
    if (value.length > 0) out.push([name, String(value.length)]);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, `${name}.${k}`, out);
  } else {
    out.push([name, value === null ? '' : String(value)]);
  }
}

/** µs per call: repeated for `windowMs` per window, median of 5 windows after one warm-up. */
function time(run: () => unknown): number {
  const windows: number[] = [];
  let sink = 0;
  for (let w = 0; w < 6; w++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round(windowMs * 1e6));
    do {
      for (let k = 0; k < 50; k++) if (run() !== undefined) sink++;
      n += 50;
    } while (process.hrtime.bigint() < end);
    if (w > 0) windows.push(Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  windows.sort((a, b) => a - b);
  return windows[2] + (sink < 0 ? 1 : 0);
}

const rows: Array<[string, number, string, number | undefined]> = [
  [`urlencoded form (${form.length} B, ${fields.length} fields)`, time(() => parseUrlEncoded(form)), 'URLSearchParams', time(() => [...new URLSearchParams(form)])],
  [`multipart, 3 parts (${multipart.length} B)`, time(() => parseMultipart(multipartType, multipart)), '–', undefined],
  [`JSON (${jsonBytes.length} B)`, time(() => parseJson(jsonBytes)), 'JSON.parse + flatten', time(() => {
    const out: Array<[string, string]> = [];
    flatten(JSON.parse(Buffer.from(jsonBytes, 'latin1').toString('utf8')), 'json', out);
    return out;
  })],
  [`XML (${xml.length} B)`, time(() => parseXml(xml)), '–', undefined],
  [`Cookie header (${cookie.length} B)`, time(() => parseCookies([cookie])), '–', undefined],
];

process.stdout.write(`\nµs per parse (median of 5 windows of ${windowMs} ms)\n\n| body | frontline | built-in floor | floor µs |\n|---|---:|---|---:|\n`);
for (const [label, ours, floorName, floor] of rows) {
  process.stdout.write(`| ${label} | ${ours.toFixed(2)} | ${floorName} | ${floor === undefined ? '' : floor.toFixed(2)} |\n`);
}
