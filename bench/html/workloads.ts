// The HTML rewriter benchmark's engines and workloads. One workload is written twice: once for the
// HTMLRewriter API (frontline and lol-html-wasm share that code) and once for parse5's rewriting
// stream (startTag/endTag/text events), with the same effect on the output:
//
//   none     no handlers: output = input.
//   typical  a[href] and img[src] get the value upgradeUrl(old value) (set on every match, so
//            every matching tag is re-serialised); a script is appended inside <body> (before the
//            end tag that closes it); e-mail-like text in text chunks is replaced (raw text in,
//            raw HTML out).
//   attr     an element handler on `a` that reads href: the handler-call cost.
//
// parse5 re-serialises a modified start tag the way lol-html does (SPEC.md §4.1): `<` + the raw tag
// name + each attribute's raw source text (the modified one as rawName="value" with `"` → &quot;)
// separated by one space + ` /` or `/` when self-closing + `>`; attribute values are read raw from
// the source (lol-html does not decode character references). Known differences are listed in
// bench/README.md and checked by test/html/differential-tool.test.ts.
import { once } from 'node:events';
import type { Token } from 'parse5';
import type { StartTag, EndTag, Text } from 'parse5-sax-parser';
import { RewritingStream } from 'parse5-html-rewriting-stream';
import type { RewriterFactory, StreamingRewriter } from '../../test/helpers/html-rewriter-module.ts';

export type WorkloadName = 'none' | 'typical' | 'attr';
export const WORKLOADS: readonly WorkloadName[] = ['none', 'typical', 'attr'];
export type EngineName = 'frontline' | 'lol-html-wasm' | 'parse5';
export const ENGINES: readonly EngineName[] = ['frontline', 'lol-html-wasm', 'parse5'];

/** Output handed to the harness: bytes from the HTMLRewriter engines, strings from parse5. */
export type Sink = (out: Uint8Array | string) => void;

/** One rewrite in progress: write chunks, then end. */
export interface Session {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
  /** Handler calls of the `attr` workload so far, and the total length of the values they read. */
  readonly calls: number;
  readonly valueLength: number;
}

export interface BenchEngine {
  name: EngineName;
  open(workload: WorkloadName, sink: Sink): Session;
}

export const INJECTED_SCRIPT = '<script src="/cdn-cgi/frontline.js" defer></script>';
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/** http:// → https://, otherwise the value itself (the attribute is set either way). */
export function upgradeUrl(value: string): string {
  return value.startsWith('http://') ? `https://${value.slice(7)}` : value;
}

/** The raw text with each e-mail-like string replaced by an obfuscated HTML form. */
export function obfuscateEmails(raw: string): string {
  return raw.includes('@') ? raw.replace(EMAIL, (m) => `<span data-fl-email="${m.length}">[email]</span>`) : raw;
}

/** The input in chunks of `size` bytes (views, no copies). */
export function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** Rewrites the chunks with one engine and workload; resolves with the finished session. */
export async function rewrite(engine: BenchEngine, workload: WorkloadName, chunks: readonly Uint8Array[], sink: Sink): Promise<Session> {
  const session = engine.open(workload, sink);
  for (const chunk of chunks) {
    const r = session.write(chunk);
    if (r) await r;
  }
  const r = session.end();
  if (r) await r;
  return session;
}

/** frontline or lol-html-wasm: the HTMLRewriter API. */
export function rewriterEngine(name: EngineName, factory: RewriterFactory): BenchEngine {
  return {
    name,
    open(workload, sink) {
      const rewriter = factory(sink);
      let calls = 0;
      let valueLength = 0;
      if (workload === 'typical') installTypical(rewriter);
      if (workload === 'attr') {
        rewriter.on('a', {
          element(el) {
            calls++;
            valueLength += (el.getAttribute('href') ?? '').length;
          },
        });
      }
      let ended = false;
      return {
        write: (chunk) => rewriter.write(chunk),
        end() {
          if (ended) return;
          ended = true;
          const r = rewriter.end();
          if (r instanceof Promise) return r.finally(() => rewriter.free?.());
          rewriter.free?.();
        },
        get calls() {
          return calls;
        },
        get valueLength() {
          return valueLength;
        },
      };
    },
  };
}

function installTypical(rewriter: StreamingRewriter): void {
  rewriter.on('a[href]', {
    element(el) {
      el.setAttribute('href', upgradeUrl(el.getAttribute('href') ?? ''));
    },
  });
  rewriter.on('img[src]', {
    element(el) {
      el.setAttribute('src', upgradeUrl(el.getAttribute('src') ?? ''));
    },
  });
  rewriter.on('body', {
    element(el) {
      el.append(INJECTED_SCRIPT, { html: true });
    },
  });
  rewriter.onDocument({
    text(chunk) {
      const raw = chunk.text;
      const replaced = obfuscateEmails(raw);
      if (replaced !== raw) chunk.replace(replaced, { html: true });
    },
  });
}

/** parse5-html-rewriting-stream: UTF-8 decoded here (a proxy must too), driven as the Transform it is. */
export const parse5Engine: BenchEngine = {
  name: 'parse5',
  open(workload, sink) {
    const stream = new RewritingStream();
    const decoder = new TextDecoder('utf-8');
    let calls = 0;
    let valueLength = 0;
    stream.on('data', (out: string) => sink(out));
    if (workload === 'typical') {
      let openBodies = 0;
      stream.on('startTag', (tag: StartTag, raw: string) => {
        if (tag.tagName === 'body') openBodies++;
        const name = tag.tagName === 'a' ? 'href' : tag.tagName === 'img' ? 'src' : undefined;
        const attr = name === undefined ? undefined : rawAttribute(tag, raw, name);
        stream.emitRaw(attr ? serializeWithAttribute(tag, raw, attr, upgradeUrl(attr.value)) : raw);
      });
      stream.on('endTag', (tag: EndTag, raw: string) => {
        // lol-html's open-element stack: an end tag closes the nearest open element of its name.
        if (tag.tagName === 'body' && openBodies > 0) {
          openBodies--;
          stream.emitRaw(INJECTED_SCRIPT);
        }
        stream.emitRaw(raw);
      });
      stream.on('text', (_text: Text, raw: string) => stream.emitRaw(obfuscateEmails(raw)));
    }
    if (workload === 'attr') {
      stream.on('startTag', (tag: StartTag, raw: string) => {
        if (tag.tagName === 'a') {
          calls++;
          valueLength += rawAttribute(tag, raw, 'href')?.value.length ?? 0;
        }
        stream.emitRaw(raw);
      });
    }
    const ended = once(stream, 'end');
    const drained = (): Promise<void> => new Promise((r) => setImmediate(r));
    return {
      write(chunk) {
        stream.write(decoder.decode(chunk, { stream: true }));
        // The Transform hands its output on asynchronously: let it reach the sink.
        return drained();
      },
      async end() {
        const rest = decoder.decode();
        if (rest) stream.write(rest);
        stream.end();
        await ended;
      },
      get calls() {
        return calls;
      },
      get valueLength() {
        return valueLength;
      },
    };
  },
};

interface RawAttribute {
  /** Index in tag.attrs. */
  index: number;
  /** The attribute's source text (`name = 'value'`) and its name as written. */
  source: string;
  rawName: string;
  /** The raw value (quotes removed, character references not decoded), as lol-html's getAttribute. */
  value: string;
}

/** The attribute `name` of a start tag as written in the source, or undefined when absent. */
export function rawAttribute(tag: StartTag, raw: string, name: string): RawAttribute | undefined {
  const index = tag.attrs.findIndex((a) => a.name === name);
  const location = locationOf(tag);
  const attrLocation = location?.attrs?.[name];
  if (index === -1 || !location || !attrLocation) return undefined;
  const source = raw.slice(attrLocation.startOffset - location.startOffset, attrLocation.endOffset - location.startOffset);
  const m = /^([^\s=]+)\s*(?:=\s*(?:"([^"]*)"?|'([^']*)'?|(\S*)))?/s.exec(source);
  if (!m) return undefined;
  return { index, source, rawName: m[1], value: m[2] ?? m[3] ?? m[4] ?? '' };
}

// The rewriting stream always records locations, attributes' included (its typings say Location).
const locationOf = (tag: StartTag) => tag.sourceCodeLocation as Token.LocationWithAttributes | null | undefined;

function serializeWithAttribute(tag: StartTag, raw: string, changed: RawAttribute, value: string): string {
  const location = locationOf(tag)!;
  let out = `<${raw.slice(1, 1 + tag.tagName.length)}`;
  tag.attrs.forEach((attr, i) => {
    const l = location.attrs![attr.name];
    out += i === changed.index
      ? ` ${changed.rawName}="${value.replaceAll('"', '&quot;')}"`
      : ` ${raw.slice(l.startOffset - location.startOffset, l.endOffset - location.startOffset)}`;
  });
  return `${out}${tag.selfClosing ? (tag.attrs.length > 0 ? ' /' : '/') : ''}>`;
}
