// The limit: a fixed subset of the corpus's rules translated by hand into plain TypeScript
// closures over the same execution context — what the compiler's output is measured against.
import type { ExecutionContext } from '../../src/rules/context.ts';
import { httpScheme } from '../../src/rules/http-scheme.ts';
import type { ByteMap, Bytes, Ip } from '../../src/rules/values.ts';

const field = (name: string): number => httpScheme.field(name)!.index;
const XFF = field('http.x_forwarded_for');
const PATH = field('http.request.uri.path');
const UA = field('http.user_agent');
const ARG_NAMES = field('http.request.uri.args.names');
const HOST = field('http.host');
const ASNUM = field('ip.src.asnum');
const HEADERS = field('http.request.headers');
const IP = field('ip.src');
const DOTFILES = /\/\.(git|env|svn|hg)/;

const asciiLower = (s: Bytes) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** Rule id → a hand-written closure computing the same result as the rule's expression. */
export const HANDWRITTEN: ReadonlyMap<string, { expression: string; fn: (ctx: ExecutionContext) => boolean }> = new Map([
  ['rule-00003', { expression: 'http.x_forwarded_for contains ","', fn: (ctx) => { const v = ctx.get(XFF) as Bytes | undefined; return v !== undefined && v.includes(','); } }],
  ['rule-00006', { expression: 'http.request.uri.path contains ".bak"', fn: (ctx) => { const v = ctx.get(PATH) as Bytes | undefined; return v !== undefined && v.includes('.bak'); } }],
  ['rule-00299', { expression: 'http.request.uri.path ~ r"/\\.(git|env|svn|hg)"', fn: (ctx) => { const v = ctx.get(PATH) as Bytes | undefined; return v !== undefined && DOTFILES.test(v); } }],
  [
    'rule-00031',
    {
      expression: 'http.user_agent contains "python-requests" || lower(http.request.uri.path) contains "../"',
      fn: (ctx) => {
        const ua = ctx.get(UA) as Bytes | undefined;
        if (ua !== undefined && ua.includes('python-requests')) return true;
        const path = ctx.get(PATH) as Bytes | undefined;
        return path !== undefined && asciiLower(path).includes('../');
      },
    },
  ],
  [
    'rule-00154',
    {
      expression: 'any(http.request.uri.args.names[*] in {"search" "redirect"})',
      fn: (ctx) => {
        const names = ctx.get(ARG_NAMES) as Bytes[] | undefined;
        if (names === undefined) return false;
        for (const name of names) if (name === 'search' || name === 'redirect') return true;
        return false;
      },
    },
  ],
  ['rule-00026', { expression: 'http.host wildcard "*.example.org"', fn: (ctx) => { const v = ctx.get(HOST) as Bytes | undefined; return v !== undefined && asciiLower(v).endsWith('.example.org'); } }],
  ['rule-00159', { expression: 'ip.src.asnum == 37963', fn: (ctx) => ctx.get(ASNUM) === 37963 }],
  [
    'rule-00386',
    {
      expression: 'http.request.headers["authorization"][0] eq "token-705"',
      fn: (ctx) => {
        const headers = ctx.get(HEADERS) as ByteMap | undefined;
        const values = headers?.get('authorization') as Bytes[] | undefined;
        return values !== undefined && values[0] === 'token-705';
      },
    },
  ],
  [
    'rule-00007',
    {
      expression: '(ip.src in {86.181.112.0/20 98.50.234.0/24})',
      fn: (ctx) => {
        const ip = ctx.get(IP) as Ip | undefined;
        if (ip === undefined || ip.family !== 4) return false;
        const v = ip.value;
        return (v >= 0x56b57000 && v <= 0x56b57fff) || (v >= 0x6232ea00 && v <= 0x6232eaff);
      },
    },
  ],
]);
