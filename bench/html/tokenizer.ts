// Tokenizer throughput on lol-html's bench pages: node bench/html/tokenizer.ts [chunkSize]
import { readFileSync, readdirSync } from 'node:fs';
import { Tokenizer } from '../../src/html/tokenizer.ts';

const dir = new URL('../../../shared/html-rewriter/lol-html/bench-pages', import.meta.url).pathname;
const chunkSize = Number(process.argv[2] ?? 1024);
for (const f of readdirSync(dir).filter((x) => x.endsWith('.html')).sort()) {
  const html = readFileSync(`${dir}/${f}`, 'utf8');
  const chunks: string[] = [];
  for (let i = 0; i < html.length; i += chunkSize) chunks.push(html.slice(i, i + chunkSize));
  let n = 0;
  const run = (): void => {
    const t = new Tokenizer(() => { n++; });
    for (const c of chunks) t.write(c);
    t.end();
  };
  for (let i = 0; i < 5; i++) run();
  const iters = 30;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = (Buffer.byteLength(html) * iters) / 1e6;
  console.log(`${f}: ${(mb / s).toFixed(1)} MB/s (${chunkSize}-char chunks, ${n / (iters + 5)} tokens)`);
}
