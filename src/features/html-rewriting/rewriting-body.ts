// One response body through a rewriter: decode the origin's content coding, feed the rewriter,
// encode its output for the client — as one Transform for the proxy's body phase, with
// backpressure through every step (a slow client pauses the encoder, which pauses the rewriter,
// which pauses the decoder, which pauses the origin), so a response of any size needs only a few
// chunks of memory.
//
// Failures: while the rewriter has written nothing, the input it was given is kept, so that if it
// fails then, the original body goes out instead (and the failure is reported); once it has
// written something, a failure destroys the stream and the proxy aborts the client connection —
// the client never gets a truncated or spliced body that looks complete.
import { Transform, type TransformCallback } from 'node:stream';
import { createDecoder, createEncoder, syncFlushKind, type Coding, type Encoder } from './content-coding.ts';

/** Where a rewriter writes its output, synchronously, in document order. */
export type Sink = (chunk: Uint8Array) => void;

/**
 * A streaming rewriter as the body phase drives it: the low-level shape of SPEC.md §2.2
 * (`write` and `end`, output through the sink it was built with). A promise from either means
 * "wait for me" (asynchronous handlers); a throw or a rejection is a failed rewrite.
 */
export interface RewriteStage {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
}

export interface RewritingBodyOptions {
  /** Builds the rewriter with the sink it must write to; a throw here leaves the body alone. */
  createStage(sink: Sink): RewriteStage;
  /** The origin's content coding (undefined: none). */
  decode: Coding | undefined;
  /** The coding for the client (undefined: none). */
  encode: Coding | undefined;
  /**
   * Most input bytes kept for a pass-through while the rewriter has written nothing; past it,
   * a failure aborts like any later one.
   */
  holdLimit: number;
  /** The rewriter failed before writing anything: the original body is going out instead. */
  onFallback(error: Error): void;
}

/** The rewriter failed after part of its output had been sent. */
export class RewriteFailedError extends Error {
  constructor(cause: unknown) {
    super(`HTML rewriting failed after output began: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RewriteFailedError';
  }
}

/** The origin's body did not decode with its Content-Encoding. */
export class OriginBodyDecodeError extends Error {
  constructor(coding: Coding, cause: Error) {
    super(`the origin's body is not valid ${coding} (Content-Encoding: ${coding}): ${cause.message}`, { cause });
    this.name = 'OriginBodyDecodeError';
  }
}

const toError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)));

export class RewritingBody extends Transform {
  readonly #stage: RewriteStage;
  readonly #decodeAs: Coding | undefined;
  #decoder: Transform | undefined = undefined;
  readonly #encoder: Encoder | undefined;
  readonly #flushKind: number;
  #flushScheduled = false;
  readonly #holdLimit: number;
  readonly #onFallback: (error: Error) => void;
  /** Input given to the rewriter while it has written nothing; undefined once that cannot be replayed. */
  #held: Uint8Array[] | undefined = [];
  #heldBytes = 0;
  #wroteOutput = false;
  /** The rewriter failed before output: input goes out as it came. */
  #passThrough = false;
  /** The last output write was refused (encoder or readable side full): wait for room. */
  #outputFull = false;
  #onRoom: (() => void) | undefined = undefined;
  /** _flush's callback, called when the last encoded byte is pushed. */
  #finish: TransformCallback | undefined = undefined;

  constructor(options: RewritingBodyOptions) {
    super();
    this.#decodeAs = options.decode;
    this.#holdLimit = options.holdLimit;
    this.#onFallback = options.onFallback;
    this.#stage = options.createStage((chunk) => this.#rewritten(chunk));
    const encoder = options.encode === undefined ? undefined : createEncoder(options.encode);
    this.#encoder = encoder;
    this.#flushKind = options.encode === undefined ? 0 : syncFlushKind(options.encode);
    if (encoder !== undefined) {
      encoder.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) encoder.pause();
      });
      encoder.on('drain', () => this.#room());
      encoder.once('end', () => this.#finish?.());
      encoder.once('error', (err: Error) => this.destroy(err));
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#decodeAs === undefined) {
      this.#rewrite(chunk, () => done());
      return;
    }
    const decoder = (this.#decoder ??= this.#startDecoder(this.#decodeAs, chunk));
    if (decoder.write(chunk)) done();
    else decoder.once('drain', () => done());
  }

  override _flush(done: TransformCallback): void {
    this.#finish = done;
    if (this.#decoder !== undefined) this.#decoder.end();
    else this.#endRewrite();
  }

  override _read(size: number): void {
    // The client took some output: let the encoder go on, or the rewriter if there is none.
    if (this.#encoder !== undefined) this.#encoder.resume();
    else this.#room();
    super._read(size);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#decoder?.destroy();
    this.#encoder?.destroy();
    this.#held = undefined;
    done(error);
  }

  #startDecoder(coding: Coding, first: Uint8Array): Transform {
    const decoder = createDecoder(coding, first);
    decoder.on('data', (chunk: Buffer) => {
      let synchronous = true;
      let ready = false;
      this.#rewrite(chunk, () => {
        if (synchronous) ready = true;
        else decoder.resume();
      });
      synchronous = false;
      if (!ready) decoder.pause();
    });
    decoder.once('end', () => this.#endRewrite());
    decoder.once('error', (err: Error) => this.destroy(new OriginBodyDecodeError(coding, err)));
    return decoder;
  }

  /** Gives one decoded chunk to the rewriter; `then` when more input may come. */
  #rewrite(chunk: Uint8Array, then: () => void): void {
    if (this.#passThrough) {
      this.#emit(chunk);
      this.#whenRoom(then);
      return;
    }
    const held = this.#held;
    if (held !== undefined) {
      held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes > this.#holdLimit) this.#held = undefined;
    }
    let pending: void | Promise<void>;
    try {
      pending = this.#stage.write(chunk);
    } catch (err) {
      this.#failed(err, then);
      return;
    }
    if (pending === undefined) this.#whenRoom(then);
    else pending.then(() => this.#whenRoom(then), (err: unknown) => this.#failed(err, then));
  }

  /** The input is complete: end the rewriter, then the encoder. */
  #endRewrite(): void {
    const finish = () => {
      if (this.#encoder !== undefined) this.#encoder.end();
      else this.#finish?.();
    };
    if (this.#passThrough) {
      finish();
      return;
    }
    let pending: void | Promise<void>;
    try {
      pending = this.#stage.end();
    } catch (err) {
      this.#failed(err, finish);
      return;
    }
    if (pending === undefined) finish();
    else pending.then(finish, (err: unknown) => this.#failed(err, finish));
  }

  /** The rewriter's sink. */
  #rewritten(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.destroyed) return;
    if (!this.#wroteOutput) {
      this.#wroteOutput = true;
      this.#held = undefined;
    }
    this.#emit(chunk);
  }

  #failed(cause: unknown, then: () => void): void {
    if (this.destroyed) return;
    const held = this.#held;
    if (this.#wroteOutput || held === undefined) {
      this.destroy(new RewriteFailedError(cause));
      return;
    }
    this.#held = undefined;
    this.#passThrough = true;
    this.#onFallback(toError(cause));
    for (const chunk of held) this.#emit(chunk);
    this.#whenRoom(then);
  }

  #emit(chunk: Uint8Array): void {
    const encoder = this.#encoder;
    if (encoder === undefined) {
      if (!this.push(chunk)) this.#outputFull = true;
      return;
    }
    if (!encoder.write(chunk)) this.#outputFull = true;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flushEncoder);
    }
  }

  /**
   * Once per event-loop turn that produced output, the encoder gives out what it holds, so that
   * a page trickling from the origin reaches the client as it comes (at the cost of a few bytes
   * per flush), not when the encoder's window fills.
   */
  readonly #flushEncoder = (): void => {
    this.#flushScheduled = false;
    const encoder = this.#encoder!;
    if (!encoder.writableEnded && !encoder.destroyed) encoder.flush(this.#flushKind);
  };

  #whenRoom(then: () => void): void {
    if (this.#outputFull) this.#onRoom = then;
    else then();
  }

  #room(): void {
    this.#outputFull = false;
    const then = this.#onRoom;
    if (then === undefined) return;
    this.#onRoom = undefined;
    then();
  }
}
