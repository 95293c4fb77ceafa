// One exchange with an origin: the origin pool's response handler that streams the response to the
// client with backpressure both ways (a slow client pauses the origin read; the request body is
// a stream the pool reads), maps failures to 502/504 before the head is sent and to an aborted
// client connection after, and retries idempotent, bodyless requests on another server when the
// connection could not be made.
import { type Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { RequestContext } from './context.ts';
import type { Downstream } from './downstream.ts';
import type { ResponseHead } from './plugin.ts';
import type { RequestController as Controller, ResponseHandler } from './upstream/http1-pool.ts';

/** What an exchange needs from the request handler: results flow back through these. */
export interface ExchangeOwner<T> {
  /** Response head arrived: run header hooks; gives the body transforms to apply. */
  onHead(exchange: T, head: ResponseHead): Transform[] | Promise<Transform[]>;
  /** Nothing was sent to the client yet and the exchange failed. `retryable`: no byte reached the origin. */
  onFailure(exchange: T, err: Error, retryable: boolean): void;
  /** The exchange is over (`ok` false: failed or aborted). */
  onDone(exchange: T, ok: boolean, err: Error | undefined): void;
}

const noop = () => {};

export class Exchange<P> implements ResponseHandler {
  readonly #owner: ExchangeOwner<Exchange<P>>;
  readonly #ctx: RequestContext;
  readonly #down: Downstream;
  /** performance.now() when the request was handed to the pool. */
  readonly dispatchedAt: number;
  /** The origin server this exchange went to (the owner's type). */
  readonly peer: P;

  get ctx(): RequestContext {
    return this.#ctx;
  }
  get down(): Downstream {
    return this.#down;
  }
  #controller: Controller | undefined = undefined;
  /** The request reached a connection: from here on nothing is retried. */
  #sent = false;
  #headSent = false;
  #done = false;
  #clientGone = false;
  #transformError: HookFailure | undefined = undefined;
  /** The origin's body is complete and the body transforms are still delivering it. */
  #draining = false;
  /** With body transforms: the first of them, where origin bytes go. */
  #transform: Transform | undefined = undefined;
  /** With body transforms: the end of their pipeline, writing to the client. */
  #out: DownstreamWritable | undefined = undefined;
  #resume: (() => void) | undefined = undefined;
  /** The origin's response ended while asynchronous head hooks were still running. */
  #endedBeforeHead = false;

  constructor(owner: ExchangeOwner<Exchange<P>>, ctx: RequestContext, down: Downstream, peer: P) {
    this.#owner = owner;
    this.#ctx = ctx;
    this.#down = down;
    this.peer = peer;
    this.dispatchedAt = performance.now();
  }

  /** The client's connection or stream ended before the response did. */
  clientGone(): void {
    if (this.#done) return;
    // A failed body transform makes the pipeline abort the response too: that is not the client leaving.
    if (this.#transformError !== undefined) {
      this.#controller?.abort(this.#transformError);
      return;
    }
    this.#clientGone = true;
    this.#out?.destroy(new ClientGoneError());
    this.#controller?.abort(new ClientGoneError());
  }

  /** The client took what was waiting: writing may go on. */
  drained(): void {
    if (this.#out !== undefined) this.#out.drained();
    else this.#controller?.resume();
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    this.#sent = true;
    this.#ctx.timings.upstreamConnectMs = performance.now() - this.dispatchedAt;
    if (this.#clientGone) controller.abort(new ClientGoneError());
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, string | string[]>): void {
    const ctx = this.#ctx;
    ctx.timings.upstreamFirstByteMs = performance.now() - this.dispatchedAt;
    const head: ResponseHead = { status: statusCode, headers };
    let transforms: Transform[] | Promise<Transform[]>;
    try {
      transforms = this.#owner.onHead(this, head);
      if (Array.isArray(transforms)) {
        this.#start(head, transforms);
        return;
      }
    } catch (err) {
      controller.abort(new HookFailure(err));
      return;
    }
    controller.pause();
    transforms.then(
      (t) => this.#afterHeadHooks(controller, head, t, undefined),
      (err: unknown) => this.#afterHeadHooks(controller, head, undefined, err),
    );
  }

  /** The asynchronous response-head hooks are done (`transforms`) or failed (`error`). */
  #afterHeadHooks(controller: Controller, head: ResponseHead, transforms: Transform[] | undefined, error: unknown): void {
    const ended = this.#endedBeforeHead;
    if (this.#done && !ended) return; // failed or aborted meanwhile
    if (transforms !== undefined) {
      try {
        this.#start(head, transforms);
      } catch (err) {
        error = err;
      }
    }
    if (!this.#headSent) {
      const failure = new HookFailure(error);
      if (ended) {
        this.#endedBeforeHead = false;
        this.#owner.onFailure(this, failure, false);
      } else controller.abort(failure);
      return;
    }
    if (ended) this.#endBody();
    else controller.resume();
  }

  #start(head: ResponseHead, transforms: Transform[]): void {
    const down = this.#down;
    const ctx = this.#ctx;
    ctx.status = head.status;
    if (transforms.length > 0) delete head.headers['content-length'];
    down.writeHead(head.status, head.headers);
    this.#headSent = true;
    ctx.timings.ttfbMs = performance.now() - ctx.start;
    if (transforms.length === 0) return;
    const last = transforms[transforms.length - 1];
    last.on('data', (chunk: Buffer) => {
      ctx.bytesSent += chunk.length;
    });
    for (const t of transforms) t.once('error', (err: Error) => (this.#transformError ??= new HookFailure(err)));
    const out = new DownstreamWritable(down);
    this.#out = out;
    pipeline([...transforms, out] as unknown as [Readable, NodeJS.WritableStream], (err) => {
      if (this.#draining) {
        // The origin's part is over; the exchange ends when the transforms have delivered (or failed).
        this.#draining = false;
        const failure = err ? (this.#clientGone ? err : (this.#transformError ?? new HookFailure(err))) : undefined;
        this.#owner.onDone(this, failure === undefined, failure);
      } else if (err && !this.#done && !this.#clientGone) this.#controller?.abort(this.#transformError ?? new HookFailure(err));
    });
    this.#transform = transforms[0];
    // Through a const: V8 allocates a closure assigned straight to a field in old space, which
    // would keep this exchange alive through scavenges (see test/waf/gc.test.ts).
    const resume = () => this.#controller?.resume();
    this.#resume = resume;
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.#headSent) return;
    const t = this.#transform;
    const down = this.#down;
    if (t === undefined) {
      this.#ctx.bytesSent += chunk.length;
      const ok = down.write(chunk);
      // The origin client reuses its read buffer unless told that this chunk is still queued.
      if (down.holding) controller.keep();
      if (!ok) controller.pause();
    } else {
      controller.keep();
      if (!t.write(chunk)) {
        controller.pause();
        t.once('drain', this.#resume!);
      }
    }
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#done = true;
    // Asynchronous head hooks still running (a response without a body ends at once): the end follows the head.
    if (!this.#headSent) this.#endedBeforeHead = true;
    else this.#endBody();
  }

  #endBody(): void {
    const t = this.#transform;
    if (t === undefined) {
      this.#down.end();
      this.#owner.onDone(this, true, undefined);
    } else {
      this.#draining = true;
      t.end();
    }
  }

  onResponseError(_controller: Controller, err: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#clientGone || err instanceof ClientGoneError) {
      this.#owner.onDone(this, false, err);
      return;
    }
    if (!this.#headSent) {
      this.#owner.onFailure(this, err, !this.#sent);
      return;
    }
    // The head is out: the only honest signal left is to abort the client connection, so the
    // client sees a truncated response rather than a complete-looking one.
    this.#down.abort();
    this.#transform?.on('error', noop);
    this.#out?.on('error', noop);
    this.#owner.onDone(this, false, err);
  }
}

/** The end of a body-transform pipeline: writes to the client, with its backpressure. */
class DownstreamWritable extends Writable {
  readonly #down: Downstream;
  #waiting: ((err?: Error | null) => void) | undefined = undefined;

  constructor(down: Downstream) {
    super();
    this.#down = down;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.#down.write(chunk)) done();
    else this.#waiting = done;
  }

  drained(): void {
    const done = this.#waiting;
    this.#waiting = undefined;
    done?.();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#down.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (err && !(err instanceof ClientGoneError)) this.#down.abort();
    done(err);
  }
}

/** A response-phase hook (or writing the head it produced) failed: the origin is not to blame. */
export class HookFailure extends Error {
  constructor(cause: unknown) {
    super(`a response hook failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'HookFailure';
  }
}

/** The client closed its connection before the exchange finished. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/** How an origin failure is named in logs and metrics, and the status the client gets. */
export function classifyUpstreamError(err: Error): { kind: 'connect' | 'timeout' | 'first-byte-timeout' | 'error'; status: number } {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'FL_FIRST_BYTE_TIMEOUT':
      return { kind: 'first-byte-timeout', status: 504 };
    case 'FL_CONNECT_TIMEOUT':
    case 'FL_BODY_TIMEOUT':
      return { kind: 'timeout', status: 504 };
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return { kind: 'connect', status: 502 };
    default:
      return { kind: 'error', status: 502 };
  }
}
