// The public HTMLRewriter: one class for both API shapes (SPEC §2). With a sink it is the
// streaming core (`write`/`end`, §2.2); without one it is the Workers shape (`transform`, §2.1).
// `start()` begins an independent rewriting run with the registered handlers, which is what
// `transform()` and the Node stream form (./stream.ts) use per response.
import { parseSelector } from './selectors.ts';
import { resolveEncoding } from './encoding.ts';
import { RewriterEngine, type DocumentHandlers, type ElementHandlers, type Registration, type RewriterOptions } from './rewriter.ts';

type Awaitable = void | Promise<void>;

/** The charset parameter of a Content-Type header value, or null. */
export function charsetOf(contentType: string | null): string | null {
  if (contentType === null) return null;
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(contentType);
  return m === null ? null : (m[1] ?? m[2]);
}

export class HTMLRewriter {
  readonly #sink: ((chunk: Uint8Array) => void) | null;
  readonly #options: RewriterOptions;
  readonly #registrations: Registration[] = [];
  readonly #documentHandlers: DocumentHandlers[] = [];
  #engine: RewriterEngine | null = null;

  constructor(sink?: (chunk: Uint8Array) => void, options: RewriterOptions = {}) {
    this.#sink = sink ?? null;
    this.#options = options;
  }

  /** Registers handlers for elements matching `selector`; throws SelectorError for an unsupported selector. */
  on(selector: string, handlers: ElementHandlers): this {
    this.#checkNotStarted();
    this.#registrations.push({ selector: parseSelector(String(selector)), handlers });
    return this;
  }

  onDocument(handlers: DocumentHandlers): this {
    this.#checkNotStarted();
    this.#documentHandlers.push(handlers);
    return this;
  }

  #checkNotStarted(): void {
    if (this.#engine !== null) throw new TypeError('Handlers must be registered before the first write().');
  }

  /** Starts an independent rewriting run with the handlers registered so far. */
  start(sink: (chunk: Uint8Array) => void, options: RewriterOptions = this.#options): RewriterEngine {
    return new RewriterEngine(sink, [...this.#registrations], [...this.#documentHandlers], options);
  }

  #run(): RewriterEngine {
    if (this.#sink === null) throw new TypeError('write()/end() need a rewriter constructed with an output sink.');
    return (this.#engine ??= this.start(this.#sink));
  }

  write(chunk: Uint8Array): Awaitable {
    return this.#run().write(chunk);
  }

  end(): Awaitable {
    return this.#run().end();
  }

  /** No-op: nothing to release in a JS engine (html-rewriter-wasm compatibility). */
  free(): void {}

  /**
   * A Response whose body is `response`'s body rewritten, pulled lazily as it is read. Status and
   * headers are kept except Content-Length; the encoding comes from the Content-Type charset.
   */
  transform(response: Response): Response {
    const label = charsetOf(response.headers.get('content-type'));
    const options: RewriterOptions = { ...this.#options, encoding: label === null ? this.#options.encoding : resolveEncoding(label) };
    const source = response.body;
    const pending: Uint8Array[] = [];
    const engine = this.start((chunk) => { if (chunk.byteLength > 0) pending.push(chunk); }, options);
    const reader = source?.getReader() ?? null;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller): Promise<void> {
        for (;;) {
          const r = reader === null ? { done: true as const, value: undefined } : await reader.read();
          if (r.done) await engine.end();
          else await engine.write(r.value);
          for (const c of pending) controller.enqueue(c);
          const produced = pending.length > 0;
          pending.length = 0;
          if (r.done) { controller.close(); return; }
          if (produced) return;
        }
      },
      async cancel(reason): Promise<void> {
        await reader?.cancel(reason);
      },
    });
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    return new Response(body, { status: response.status, statusText: response.statusText, headers });
  }
}
