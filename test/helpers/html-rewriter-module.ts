// The HTMLRewriter API as the HTML tools drive it (shared/html-rewriter/SPEC.md §2.1/§2.2), the
// oracle (html-rewriter-wasm: lol-html compiled to WebAssembly) behind it, and the loading of an
// engine module in either shape, for bench/html, scripts/html-diff and their tests.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HTMLRewriter as WasmRewriter } from 'html-rewriter-wasm';

export interface ContentOptions {
  html?: boolean;
}

export interface RewriterEndTag {
  name: string;
  before(content: string, options?: ContentOptions): unknown;
  after(content: string, options?: ContentOptions): unknown;
  remove(): unknown;
}

export interface RewriterElement {
  tagName: string;
  readonly attributes: Iterable<[string, string]>;
  readonly namespaceURI: string;
  readonly removed: boolean;
  /** lol-html v3 Rust/C API; absent from the oracle (SPEC §13). */
  readonly selfClosing?: boolean;
  readonly canHaveContent?: boolean;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  setAttribute(name: string, value: string): unknown;
  removeAttribute(name: string): unknown;
  before(content: string, options?: ContentOptions): unknown;
  after(content: string, options?: ContentOptions): unknown;
  prepend(content: string, options?: ContentOptions): unknown;
  append(content: string, options?: ContentOptions): unknown;
  replace(content: string, options?: ContentOptions): unknown;
  setInnerContent(content: string, options?: ContentOptions): unknown;
  remove(): unknown;
  removeAndKeepContent(): unknown;
  onEndTag(handler: (endTag: RewriterEndTag) => void | Promise<void>): void;
}

export interface RewriterComment {
  text: string;
  readonly removed: boolean;
  before(content: string, options?: ContentOptions): unknown;
  after(content: string, options?: ContentOptions): unknown;
  replace(content: string, options?: ContentOptions): unknown;
  remove(): unknown;
}

export interface RewriterTextChunk {
  readonly text: string;
  readonly lastInTextNode: boolean;
  readonly removed: boolean;
  before(content: string, options?: ContentOptions): unknown;
  after(content: string, options?: ContentOptions): unknown;
  replace(content: string, options?: ContentOptions): unknown;
  remove(): unknown;
}

export interface RewriterDoctype {
  readonly name: string | null;
  readonly publicId: string | null;
  readonly systemId: string | null;
}

export interface RewriterDocumentEnd {
  append(content: string, options?: ContentOptions): unknown;
}

export interface ElementHandlers {
  element?(element: RewriterElement): void | Promise<void>;
  comments?(comment: RewriterComment): void | Promise<void>;
  text?(text: RewriterTextChunk): void | Promise<void>;
}

export interface DocumentHandlers {
  doctype?(doctype: RewriterDoctype): void | Promise<void>;
  comments?(comment: RewriterComment): void | Promise<void>;
  text?(text: RewriterTextChunk): void | Promise<void>;
  end?(end: RewriterDocumentEnd): void | Promise<void>;
}

/** SPEC §2.2: the streaming rewriter; write/end return a Promise only when they must wait. */
export interface StreamingRewriter {
  on(selector: string, handlers: ElementHandlers): unknown;
  onDocument(handlers: DocumentHandlers): unknown;
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
  free?(): void;
}

export type RewriterFactory = (sink: (chunk: Uint8Array) => void) => StreamingRewriter;

export interface LoadedEngine {
  factory: RewriterFactory;
  /** Which of SPEC §2's shapes the module's HTMLRewriter has. */
  shape: 'streaming' | 'workers';
  path: string;
}

export const oracleFactory: RewriterFactory = (sink) => new WasmRewriter(sink);

/** The default engine module, relative to the repository. */
export const DEFAULT_ENGINE_MODULE = 'src/html/index.ts';

const REPO = new URL('../../', import.meta.url).pathname;

/** Resolves a module path given on a command line (relative to the repository unless absolute). */
export function engineModulePath(path: string): string {
  return resolve(REPO, path);
}

/**
 * Loads a module exporting `HTMLRewriter` (named or default) in the §2.2 shape (constructor(sink),
 * write, end) or the §2.1 shape (constructor(), transform(Response)). Throws a readable error
 * when the module is missing or has neither shape.
 */
export async function loadEngineModule(path: string): Promise<LoadedEngine> {
  const file = engineModulePath(path);
  if (!existsSync(file)) throw new Error(`engine module not found: ${file}`);
  const mod = (await import(pathToFileURL(file).href)) as { HTMLRewriter?: unknown; default?: unknown };
  const ctor = mod.HTMLRewriter ?? mod.default;
  if (typeof ctor !== 'function') throw new Error(`${file} exports no HTMLRewriter class`);
  const proto = (ctor as { prototype: Record<string, unknown> }).prototype;
  if (typeof proto.write === 'function' && typeof proto.end === 'function') {
    const Streaming = ctor as new (sink: (chunk: Uint8Array) => void) => StreamingRewriter;
    return { factory: (sink) => new Streaming(sink), shape: 'streaming', path: file };
  }
  if (typeof proto.transform === 'function') {
    return { factory: workersShapeFactory(ctor as new () => WorkersRewriter), shape: 'workers', path: file };
  }
  throw new Error(`${file}: HTMLRewriter has neither write/end (SPEC §2.2) nor transform (SPEC §2.1)`);
}

interface WorkersRewriter {
  on(selector: string, handlers: ElementHandlers): unknown;
  onDocument(handlers: DocumentHandlers): unknown;
  transform(response: Response): Response;
}

/**
 * Drives a §2.1 rewriter through the §2.2 interface: writes feed the Response body, and each write
 * waits one macrotask so the output the rewriter produced for it reaches the sink.
 */
function workersShapeFactory(Workers: new () => WorkersRewriter): RewriterFactory {
  return (sink) => {
    const rewriter = new Workers();
    let input!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => { input = controller; } });
    let pump: Promise<void> | undefined;
    const startPump = (): Promise<void> =>
      (pump ??= (async () => {
        const out = rewriter.transform(new Response(body)).body;
        if (!out) return;
        for await (const chunk of out) sink(chunk);
      })());
    return {
      on: (selector, handlers) => rewriter.on(selector, handlers),
      onDocument: (handlers) => rewriter.onDocument(handlers),
      async write(chunk) {
        void startPump().catch(() => undefined);
        input.enqueue(chunk);
        await new Promise((r) => setImmediate(r));
      },
      async end() {
        const done = startPump();
        input.close();
        await done;
      },
    };
  };
}
