// Runs the html5lib tokenizer tests against src/html/tokenizer.ts (raw values cooked with
// src/html/decode.ts), whole-input and over random chunk splits. `errors` are ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { Tokenizer, type Token, type TextType } from '../../src/html/tokenizer.ts';
import { cookAttributeValue, cookName, cookOther, cookText, normalizeNewlines } from '../../src/html/decode.ts';

const DIR = new URL('../../../shared/html-rewriter/html5lib-tests/tokenizer', import.meta.url).pathname;

interface Case {
  description: string;
  input: string;
  output: unknown[];
  initialStates?: string[];
  lastStartTag?: string;
  doubleEscaped?: boolean;
}

const STATES: Record<string, TextType | 'cdata'> = {
  'Data state': 'data',
  'PLAINTEXT state': 'plaintext',
  'RCDATA state': 'rcdata',
  'RAWTEXT state': 'rawtext',
  'Script data state': 'scriptData',
  'CDATA section state': 'cdata',
};

function unescapeDouble(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
function unescapeDeep(v: unknown): unknown {
  if (typeof v === 'string') return unescapeDouble(v);
  if (Array.isArray(v)) return v.map(unescapeDeep);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[unescapeDouble(k)] = unescapeDeep(x);
    return o;
  }
  return v;
}

export function tokenize(chunks: readonly string[], state: TextType | 'cdata', lastStartTag: string | undefined): Token[] {
  const out: Token[] = [];
  const t = new Tokenizer((tok) => out.push(tok), { initialState: state, lastStartTag });
  for (const c of chunks) t.write(c);
  t.end();
  return out;
}

function toHtml5lib(tokens: readonly Token[]): unknown[] {
  const out: unknown[] = [];
  let text: string | null = null;
  const flush = (): void => { if (text !== null && text !== '') out.push(['Character', text]); text = null; };
  let rawText = '';
  let rawType: TextType = 'data';
  const flushRaw = (): void => { if (rawText !== '') { text = (text ?? '') + cookText(rawText, rawType); rawText = ''; } };
  for (const t of tokens) {
    if (t.kind === 'text') {
      if (rawText !== '' && rawType !== t.textType) flushRaw();
      rawType = t.textType;
      rawText += t.raw;
      continue;
    }
    flushRaw();
    if (t.kind === 'cdata') { text = (text ?? '') + normalizeNewlines(t.text); continue; }
    flush();
    if (t.kind === 'startTag') {
      const attrs: Record<string, string> = {};
      for (const a of t.attributes) {
        const n = cookName(a.name);
        if (!Object.hasOwn(attrs, n)) attrs[n] = cookAttributeValue(a.value);
      }
      out.push(t.selfClosing ? ['StartTag', cookName(t.rawName), attrs, true] : ['StartTag', cookName(t.rawName), attrs]);
    } else if (t.kind === 'endTag') {
      out.push(['EndTag', cookName(t.rawName)]);
    } else if (t.kind === 'comment') {
      out.push(['Comment', cookOther(t.text)]);
    } else {
      out.push(['DOCTYPE', t.name === null ? null : cookName(t.name), t.publicId === null ? null : cookOther(t.publicId),
        t.systemId === null ? null : cookOther(t.systemId), !t.forceQuirks]);
    }
  }
  flushRaw();
  flush();
  return out;
}

function mergeExpected(output: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const tok of output) {
    const a = tok as unknown[];
    const prev = out[out.length - 1] as unknown[] | undefined;
    if (a[0] === 'Character' && prev !== undefined && prev[0] === 'Character') {
      out[out.length - 1] = ['Character', (prev[1] as string) + (a[1] as string)];
    } else out.push(a);
  }
  return out;
}

/** Spans are increasing, non-overlapping, inside the input, and raw text equals its span. */
function checkSpans(input: string, tokens: readonly Token[]): void {
  let at = 0;
  for (const t of tokens) {
    assert.ok(t.start >= at && t.end >= t.start && t.end <= input.length, `span ${t.kind} ${t.start}-${t.end}`);
    if (t.kind === 'text') assert.equal(t.raw, input.slice(t.start, t.end));
    at = t.end;
  }
}

function mergedText(tokens: readonly Token[]): unknown[] {
  const out: unknown[] = [];
  for (const t of tokens) {
    const prev = out[out.length - 1] as Token | undefined;
    if (t.kind === 'text' && prev !== undefined && prev.kind === 'text' && prev.textType === t.textType && prev.end === t.start) {
      out[out.length - 1] = { ...prev, end: t.end, raw: prev.raw + t.raw };
    } else out.push(t);
  }
  return out;
}

interface Run { file: string; c: Case; state: string; input: string; expected: unknown[] }
const runs: Run[] = [];
const files = readdirSync(DIR).filter((f) => f.endsWith('.test')).sort();
for (const file of files) {
  const data = JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8')) as { tests?: Case[]; xmlViolationTests?: Case[] };
  for (const c of data.tests ?? []) {
    const input = c.doubleEscaped === true ? unescapeDouble(c.input) : c.input;
    const expected = mergeExpected((c.doubleEscaped === true ? unescapeDeep(c.output) : c.output) as unknown[]);
    for (const state of c.initialStates ?? ['Data state']) runs.push({ file, c, state, input, expected });
  }
}

test('html5lib tokenizer tests: every case passes (whole input)', () => {
  const perFile = new Map<string, { pass: number; total: number }>();
  const failures: string[] = [];
  for (const r of runs) {
    const f = perFile.get(r.file) ?? { pass: 0, total: 0 };
    perFile.set(r.file, f);
    f.total++;
    let ok = false;
    try {
      const toks = tokenize([r.input], STATES[r.state], r.c.lastStartTag);
      checkSpans(r.input, toks);
      assert.deepEqual(toHtml5lib(toks), r.expected);
      ok = true;
    } catch (e) {
      if (failures.length < 15) failures.push(`${r.file} [${r.state}] ${r.c.description}: ${JSON.stringify(r.input)}\n  ${String(e).slice(0, 600)}`);
    }
    if (ok) f.pass++;
  }
  let pass = 0;
  for (const [file, f] of perFile) { pass += f.pass; console.log(`${file}: ${f.pass}/${f.total}`); }
  console.log(`total: ${pass}/${runs.length}`);
  for (const m of failures) console.log(m);
  assert.equal(pass, runs.length);
  // 6 806 tests in 13 files (xmlViolation.test only has xmlViolationTests, which are not tokenizer output), 7 032 runs over initialStates.
  assert.equal(runs.length, 7032);
});

test('html5lib inputs: any chunking gives the same tokens (adjacent text merged)', () => {
  const sample = runs.filter((_r, i) => i % 7 === 0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: sample.length - 1 }), fc.array(fc.nat(), { maxLength: 8 }), (idx, cuts) => {
      const r = sample[idx];
      const pts = [...new Set(cuts.map((x) => x % (r.input.length + 1)))].sort((a, b) => a - b);
      const chunks: string[] = [];
      let prev = 0;
      for (const p of pts) { chunks.push(r.input.slice(prev, p)); prev = p; }
      chunks.push(r.input.slice(prev));
      const whole = tokenize([r.input], STATES[r.state], r.c.lastStartTag);
      const split = tokenize(chunks, STATES[r.state], r.c.lastStartTag);
      assert.deepEqual(mergedText(split), mergedText(whole));
    }),
    { numRuns: 3000 },
  );
});

test('html5lib tokenizer tests: every case passes when fed one char per write()', () => {
  let pass = 0;
  const failures: string[] = [];
  for (const r of runs) {
    try {
      const toks = tokenize([...r.input.split('')], STATES[r.state], r.c.lastStartTag);
      checkSpans(r.input, toks);
      assert.deepEqual(toHtml5lib(toks), r.expected);
      assert.deepEqual(mergedText(toks), mergedText(tokenize([r.input], STATES[r.state], r.c.lastStartTag)));
      pass++;
    } catch (e) {
      if (failures.length < 10) failures.push(`${r.file} [${r.state}] ${r.c.description}: ${JSON.stringify(r.input)}\n  ${String(e).slice(0, 600)}`);
    }
  }
  for (const m of failures) console.log(m);
  assert.equal(pass, runs.length);
});

test('foreign content: CDATA sections when allowed, no text-type switch; callers can override the switch', () => {
  const out: Token[] = [];
  const t = new Tokenizer((tok) => {
    out.push(tok);
    if (tok.kind === 'startTag' && tok.name === 'svg') { t.foreignContent = true; t.allowCdata = true; }
    if (tok.kind === 'startTag' && tok.name === 'xraw') t.setTextType('rawtext');
  });
  const src = '<svg><style><b></b></style><![CDATA[a<b>]]></svg><xraw><i></xraw>';
  for (const ch of src) t.write(ch);
  t.end();
  assert.deepEqual((mergedText(out) as Token[]).map((x) => [x.kind, src.slice(x.start, x.end)]), [
    ['startTag', '<svg>'], ['startTag', '<style>'], ['startTag', '<b>'], ['endTag', '</b>'], ['endTag', '</style>'],
    ['cdata', '<![CDATA[a<b>]]>'], ['endTag', '</svg>'], ['startTag', '<xraw>'], ['text', '<i>'], ['endTag', '</xraw>'],
  ]);
  const cd = out[5];
  assert.ok(cd.kind === 'cdata' && cd.text === 'a<b>');
});

test('long tokens fed in small chunks are not re-lexed from their start on every write', () => {
  const big = 'x'.repeat(400_000);
  for (const src of [`<!--${big}-->`, `<!${big}>`, `<?${big}>`, `<a title="${big}">`, `<!DOCTYPE html PUBLIC "${big}">`]) {
    const out: Token[] = [];
    const t = new Tokenizer((tok) => out.push(tok));
    const t0 = performance.now();
    for (let i = 0; i < src.length; i += 256) t.write(src.slice(i, i + 256));
    t.end();
    const ms = performance.now() - t0;
    assert.equal(out.length, 1);
    assert.equal(out[0].end, src.length);
    assert.ok(ms < 500, `${src.slice(0, 12)}: ${ms} ms`);
  }
});

test('documents with long tokens: any chunking gives the same tokens and spans', () => {
  const pieces = ['<!--', '-->', '--!>', '<a b="', '">', "c='", "'", '>', '/>', 'x'.repeat(700), ' ', '<!DOCTYPE ', 'PUBLIC "',
    '<script>', '</script>', '<!--<script>', '<title>', '</title>', '<![CDATA[', ']]>', '&amp', '<', '</', '-', '<?', '<!', '\r\n'];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...pieces), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.boolean(),
      (parts, cuts, cdata) => {
        const input = parts.join('');
        const pts = [...new Set(cuts.map((x) => x % (input.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let prev = 0;
        for (const p of pts) { chunks.push(input.slice(prev, p)); prev = p; }
        chunks.push(input.slice(prev));
        const run = (cs: readonly string[]): Token[] => {
          const out: Token[] = [];
          const t = new Tokenizer((tok) => out.push(tok));
          t.allowCdata = cdata;
          for (const c of cs) t.write(c);
          t.end();
          return out;
        };
        const whole = run([input]);
        checkSpans(input, whole);
        assert.deepEqual(mergedText(run(chunks)), mergedText(whole));
      },
    ),
    { numRuns: 500 },
  );
});
