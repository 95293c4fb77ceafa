// `contains` search: frontline's substring searcher (src/rules/search.ts) beside String#includes,
// Buffer#indexOf and RegExp on realistic fields from the corpus (paths, user agents, query
// strings) with needles from the corpus's rules, and on adversarial fields: the needle's first
// byte repeated (10,000 `/` against "/wp-admin/") next to a random field of the same length.
//
//   node bench/rules/search.ts [--seconds 0.3]
import { readFileSync } from 'node:fs';
import { substringSearcher } from '../../src/rules/search.ts';

const args = process.argv.slice(2);
const seconds = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 0.3;

const CORPUS = new URL('../../../shared/rules-language/', import.meta.url);
const requests = readFileSync(new URL('bench-requests.jsonl', CORPUS), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { values: Record<string, unknown>; adversarial?: boolean });
const expressions = readFileSync(new URL('bench-rules.jsonl', CORPUS), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { expression: string }).expression);
const needles = [...new Set(expressions.flatMap((e) => [...e.matchAll(/contains "([^"\\]+)"/g)].map((m) => m[1])))].filter((n) => n.length >= 2).slice(0, 40);

const field = (name: string) => requests.filter((r) => !r.adversarial && typeof r.values[name] === 'string').slice(0, 200).map((r) => r.values[name] as string);
const corpora: Record<string, string[]> = {
  path: field('http.request.uri.path'),
  user_agent: field('http.user_agent'),
  query: field('http.request.uri.query'),
};

type Search = (haystack: string) => boolean;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const contenders: Record<string, (needle: string) => Search> = {
  frontline: (needle) => substringSearcher(needle),
  'String#includes': (needle) => (h) => h.includes(needle),
  'Buffer#indexOf': (needle) => {
    const n = Buffer.from(needle, 'latin1');
    return (h) => Buffer.from(h, 'latin1').indexOf(n) !== -1;
  },
  'Buffer#indexOf (pre-encoded)': (needle) => {
    const n = Buffer.from(needle, 'latin1');
    const cache = new Map<string, Buffer>();
    return (h) => {
      let b = cache.get(h);
      if (b === undefined) cache.set(h, (b = Buffer.from(h, 'latin1')));
      return b.indexOf(n) !== -1;
    };
  },
  RegExp: (needle) => {
    const re = new RegExp(escape(needle));
    return (h) => re.test(h);
  },
};

/** ns per search: runs the haystack × needle grid repeatedly for `seconds`, median of 5 windows. */
function time(search: Search[], haystacks: string[]): number {
  const windows: number[] = [];
  let sink = 0;
  for (let w = 0; w < 6; w++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round((seconds / 6) * 1e9));
    do {
      for (const s of search) for (const h of haystacks) if (s(h)) sink++;
      n += search.length * haystacks.length;
    } while (process.hrtime.bigint() < end);
    if (w > 0) windows.push(Number(process.hrtime.bigint() - t0) / n);
  }
  windows.sort((a, b) => a - b);
  return windows[2] + (sink < 0 ? 1 : 0);
}

const rows: string[] = [];
for (const [name, haystacks] of Object.entries(corpora)) {
  const cells = Object.entries(contenders).map(([, make]) => time(needles.map(make), haystacks));
  rows.push(`| ${name} (${haystacks.length} values, ${needles.length} needles) | ${cells.map((c) => c.toFixed(1)).join(' | ')} |`);
}
const adversarial = '/'.repeat(10_000);
let seed = 7;
const randomField = Array.from({ length: 10_000 }, () => String.fromCharCode(0x21 + ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 94))).join('');
for (const [label, haystack] of [['10,000 × "/" vs "/wp-admin/"', adversarial], ['random 10,000 bytes vs "/wp-admin/"', randomField]] as const) {
  const cells = Object.entries(contenders).map(([, make]) => time([make('/wp-admin/')], [haystack]));
  rows.push(`| ${label} | ${cells.map((c) => c.toFixed(0)).join(' | ')} |`);
}
process.stdout.write(`\nns per search (median of 5 windows)\n\n| haystacks | ${Object.keys(contenders).join(' | ')} |\n|---|${Object.keys(contenders).map(() => '---:').join('|')}|\n${rows.join('\n')}\n`);
