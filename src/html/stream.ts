// Node stream form of the rewriter for the proxy's body phase: a Transform (Buffer in, Buffer
// out) running one rewriting run. Async handlers hold the stream; backpressure is the
// Transform's own (the next chunk is not taken while the readable side is full).
import { Transform, type TransformCallback } from 'node:stream';
import type { HTMLRewriter } from './html-rewriter.ts';
import type { RewriterEngine, RewriterOptions } from './rewriter.ts';

export class HTMLRewriterTransform extends Transform {
  readonly #engine: RewriterEngine;

  /** `rewriter` supplies the handlers (registered with on/onDocument); `options` override its options. */
  constructor(rewriter: HTMLRewriter, options?: RewriterOptions) {
    super();
    this.#engine = rewriter.start((chunk) => { if (chunk.byteLength > 0) this.push(chunk); }, options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    settle(() => this.#engine.write(chunk), callback);
  }

  override _flush(callback: TransformCallback): void {
    settle(() => this.#engine.end(), callback);
  }
}

function settle(step: () => void | Promise<void>, callback: TransformCallback): void {
  let r: void | Promise<void>;
  try {
    r = step();
  } catch (e) {
    callback(e as Error);
    return;
  }
  if (r === undefined) callback();
  else r.then(() => callback(), (e: unknown) => callback(e as Error));
}
