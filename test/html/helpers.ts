// Shared helpers of the HTML rewriter tests: seeded randomness, chunked runs of the engine.
import { HTMLRewriter, type RewriterOptions } from '../../src/html/index.ts';

export const SHARED = new URL('../../../shared/html-rewriter/', import.meta.url);

export { seededRandom } from '../helpers/seeded-random.ts';

/** Splits bytes into chunks of random sizes (1..maxSize). */
export function randomChunks(bytes: Uint8Array, rand: () => number, maxSize = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + Math.floor(rand() * maxSize);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Runs the engine (sync handlers) over chunks; returns the output bytes. */
export function rewrite(chunks: readonly Uint8Array[], setup: (r: HTMLRewriter) => void, options?: RewriterOptions): Buffer {
  const out: Buffer[] = [];
  const r = new HTMLRewriter((c) => out.push(Buffer.from(c)), options);
  setup(r);
  for (const c of chunks) r.write(c);
  r.end();
  return Buffer.concat(out);
}

/** Same, awaiting writes (for async handlers). */
export async function rewriteAsync(chunks: readonly Uint8Array[], setup: (r: HTMLRewriter) => void, options?: RewriterOptions): Promise<Buffer> {
  const out: Buffer[] = [];
  const r = new HTMLRewriter((c) => out.push(Buffer.from(c)), options);
  setup(r);
  for (const c of chunks) await r.write(c);
  await r.end();
  return Buffer.concat(out);
}

/** Runs a string document whole; returns the output as a string. */
export function rewriteString(html: string, setup: (r: HTMLRewriter) => void, options?: RewriterOptions): string {
  return rewrite([Buffer.from(html)], setup, options).toString();
}
