// Engine throughput and handler-call cost on lol-html's bench pages, 16 KiB writes:
//   node bench/html/engine.ts
// Rows: no handlers; the "typical" workload (a[href] and img[src] rewrites, a script appended to
// body, e-mail-like text replaced); and the cost of one element handler call that reads an attribute.
import { readFileSync, readdirSync } from 'node:fs';
import { HTMLRewriter } from '../../src/html/index.ts';

const dir = new URL('../../../shared/html-rewriter/lol-html/bench-pages/', import.meta.url);
const CHUNK = 16 * 1024;

function typical(r: HTMLRewriter): void {
  r.on('a[href]', { element(el) { const h = el.getAttribute('href'); if (h !== null && h.startsWith('http://')) el.setAttribute('href', 'https://' + h.slice(7)); } });
  r.on('img[src]', { element(el) { const s = el.getAttribute('src'); if (s !== null && s.startsWith('http://')) el.setAttribute('src', 'https://' + s.slice(7)); } });
  r.on('body', { element(el) { el.append('<script>/* injected */</script>', { html: true }); } });
  r.onDocument({ text(t) { if (t.text.includes('@')) t.replace(t.text.replace(/[\w.+-]+@[\w-]+\.[\w.]+/g, '[email]')); } });
}

function mbPerSecond(page: Buffer, setup: (r: HTMLRewriter) => void): number {
  const run = (): void => {
    const r = new HTMLRewriter(() => {});
    setup(r);
    for (let i = 0; i < page.length; i += CHUNK) r.write(page.subarray(i, i + CHUNK));
    r.end();
  };
  for (let i = 0; i < 5; i++) run();
  let iters = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1e9) { run(); iters++; elapsed = Number(process.hrtime.bigint() - t0); }
  return (page.length * iters) / 1e6 / (elapsed / 1e9);
}

console.log('page                    | no handlers MB/s | typical MB/s');
for (const f of readdirSync(dir).filter((x) => x.endsWith('.html')).sort()) {
  const page = readFileSync(new URL(f, dir));
  console.log(`${f.padEnd(23)} | ${mbPerSecond(page, () => {}).toFixed(1).padStart(16)} | ${mbPerSecond(page, typical).toFixed(1).padStart(12)}`);
}

// Handler-call cost: a document of N matched elements, minus the same document with a selector that matches nothing.
const N = 20000;
const doc = Buffer.from('<div>' + '<a href="http://example.com/x">x</a>'.repeat(N) + '</div>');
const time = (sel: string): number => {
  let sink = 0;
  const run = (): void => {
    const r = new HTMLRewriter(() => {});
    r.on(sel, { element(el) { sink += el.getAttribute('href')?.length ?? 0; } });
    r.write(doc);
    r.end();
  };
  for (let i = 0; i < 5; i++) run();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) run();
  return Number(process.hrtime.bigint() - t0) / 20 + sink * 0;
};
const perCall = (time('a') - time('a.nomatch')) / N;
console.log(`element handler call with one getAttribute: ${(perCall / 1000).toFixed(3)} µs`);
