// Mutation programs for the differential checker: what handlers to register and what each does,
// as data (so a case can be printed and re-run), and the interpreter that runs a program on an
// engine, logging every handler call with the token data it read.
//
// Logs are made independent of how an engine cuts text into chunks (SPEC.md §4.4: chunk
// boundaries are not part of the contract): a text handler logs one entry per text node (the
// chunks' concatenation, at the chunk with lastInTextNode), counts nodes rather than chunks for its
// gates, and only uses mutations whose effect does not depend on the cuts: before() on the node's
// first chunk, after() on its last, remove() and an ASCII upper-casing replace() on every chunk.
import type {
  ContentOptions,
  RewriterComment,
  RewriterElement,
  RewriterEndTag,
  RewriterFactory,
  RewriterTextChunk,
  StreamingRewriter,
} from '../../test/helpers/html-rewriter-module.ts';

export interface Content {
  text: string;
  html: boolean;
}

export type EndTagAction =
  | { op: 'setName'; name: string }
  | { op: 'before' | 'after'; content: Content }
  | { op: 'remove' };

export type ElementAction =
  | { op: 'getAttribute' | 'hasAttribute' | 'removeAttribute'; name: string }
  | { op: 'setAttribute'; name: string; value: string }
  | { op: 'attributes' | 'removed' | 'remove' | 'removeAndKeepContent' | 'selfClosing' | 'canHaveContent' }
  | { op: 'setTagName'; name: string }
  | { op: 'before' | 'after' | 'prepend' | 'append' | 'replace' | 'setInnerContent'; content: Content }
  | { op: 'onEndTag'; actions: EndTagAction[] };

export type CommentAction =
  | { op: 'setText'; text: string }
  | { op: 'before' | 'after' | 'replace'; content: Content }
  | { op: 'remove' | 'removed' };

export type TextAction = { op: 'before' | 'after'; content: Content } | { op: 'remove' } | { op: 'upper'; html: boolean };

export type EndAction = { op: 'append'; content: Content };

/** An action applied on the calls whose number n (0-based, per handler) has n % every === offset. */
export interface Gated<A> {
  every: number;
  offset: number;
  action: A;
}

export interface Registration {
  /** The `on()` selector; absent for `onDocument()`. */
  selector?: string;
  element?: Gated<ElementAction>[];
  comments?: Gated<CommentAction>[];
  text?: Gated<TextAction>[];
  doctype?: boolean;
  end?: Gated<EndAction>[];
}

export interface Program {
  registrations: Registration[];
  /** Handlers return a Promise and act after an await. */
  async: boolean;
}

export interface Outcome {
  output: Uint8Array;
  /** One JSON entry per handler call (text: per text node). */
  log: string[];
  /** 'write' or 'end' when that call threw or rejected: the rewriter's own error. */
  error?: 'write' | 'end';
}

/** Runs a program on a document cut into `chunks` (sizes in bytes). */
export async function runProgram(factory: RewriterFactory, doc: Uint8Array, chunks: readonly number[], program: Program): Promise<Outcome> {
  const parts: Uint8Array[] = [];
  const log: string[] = [];
  const rewriter = factory((chunk) => void parts.push(chunk.slice()));
  program.registrations.forEach((reg, index) => register(rewriter, reg, index, program.async, log));
  let error: Outcome['error'];
  try {
    let at = 0;
    for (const size of chunks) {
      const r = rewriter.write(doc.subarray(at, at + size));
      at += size;
      if (r) await r;
    }
    if (at < doc.length) throw new Error(`chunks cover ${at} of ${doc.length} bytes`);
    error = 'end';
    const r = rewriter.end();
    if (r) await r;
    error = undefined;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('chunks cover')) throw e;
    error ??= 'write';
  } finally {
    rewriter.free?.();
  }
  return { output: concat(parts), log, ...(error ? { error } : {}) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Entry = unknown[];

/** Calls fn (the handler's work) now, or after an await when the program is async. */
function handler<T>(isAsync: boolean, fn: (token: T) => void): (token: T) => void | Promise<void> {
  return isAsync ? async (token: T) => { await null; fn(token); } : fn;
}

function attempt(entry: Entry, fn: () => unknown): void {
  try {
    const result = fn();
    if (result !== undefined && typeof result !== 'object') entry.push(result);
  } catch {
    // Error messages differ between lol-html versions (SPEC §13): only the throw is compared.
    entry.push('threw');
  }
}

const gated = <A>(list: Gated<A>[] | undefined, n: number): A[] => (list ?? []).filter((g) => n % g.every === g.offset).map((g) => g.action);
const opts = (c: Content): ContentOptions => ({ html: c.html });
const upperAscii = (s: string): string => s.replace(/[a-z]+/g, (m) => m.toUpperCase());

function register(rewriter: StreamingRewriter, reg: Registration, index: number, isAsync: boolean, log: string[]): void {
  const who = reg.selector === undefined ? `doc#${index}` : `on#${index}(${reg.selector})`;
  const record = (entry: Entry) => void log.push(JSON.stringify(entry));
  let elements = 0;
  let comments = 0;
  const element = handler(isAsync, (el: RewriterElement) => {
    const entry: Entry = [who, 'element', el.tagName, el.namespaceURI];
    for (const action of gated(reg.element, elements)) elementAction(el, action, entry, `${who}.endTag`, isAsync, record);
    elements++;
    record(entry);
  });
  const comment = handler(isAsync, (c: RewriterComment) => {
    const entry: Entry = [who, 'comment', c.text];
    for (const action of gated(reg.comments, comments)) commentAction(c, action, entry);
    comments++;
    record(entry);
  });
  const text = reg.text ? textHandler(reg.text, who, isAsync, record) : undefined;
  try {
    if (reg.selector !== undefined) {
      rewriter.on(reg.selector, {
        ...(reg.element ? { element } : {}),
        ...(reg.comments ? { comments: comment } : {}),
        ...(text ? { text } : {}),
      });
    } else {
      let ends = 0;
      rewriter.onDocument({
        ...(reg.doctype ? { doctype: handler(isAsync, (d) => record([who, 'doctype', d.name, d.publicId, d.systemId])) } : {}),
        ...(reg.comments ? { comments: comment } : {}),
        ...(text ? { text } : {}),
        ...(reg.end
          ? {
              end: handler(isAsync, (end) => {
                const entry: Entry = [who, 'end'];
                for (const action of gated(reg.end, ends++)) attempt(entry, () => end.append(action.content.text, opts(action.content)));
                record(entry);
              }),
            }
          : {}),
      });
    }
  } catch {
    record([who, 'on() threw']);
  }
}

function elementAction(el: RewriterElement, a: ElementAction, entry: Entry, endWho: string, isAsync: boolean, record: (e: Entry) => void): void {
  switch (a.op) {
    case 'getAttribute':
      return attempt(entry, () => el.getAttribute(a.name) ?? 'null');
    case 'hasAttribute':
      return attempt(entry, () => el.hasAttribute(a.name));
    case 'removeAttribute':
      return attempt(entry, () => el.removeAttribute(a.name));
    case 'setAttribute':
      return attempt(entry, () => el.setAttribute(a.name, a.value));
    case 'attributes':
      return void entry.push([...el.attributes].map(([n, v]) => `${n}=${v}`));
    case 'removed':
      return void entry.push(`removed=${el.removed}`);
    case 'selfClosing':
      return void entry.push(`selfClosing=${String(el.selfClosing)}`);
    case 'canHaveContent':
      return void entry.push(`canHaveContent=${String(el.canHaveContent)}`);
    case 'remove':
      return attempt(entry, () => el.remove());
    case 'removeAndKeepContent':
      return attempt(entry, () => el.removeAndKeepContent());
    case 'setTagName':
      return attempt(entry, () => {
        el.tagName = a.name;
        return el.tagName;
      });
    case 'onEndTag':
      return attempt(entry, () =>
        el.onEndTag(handler(isAsync, (end: RewriterEndTag) => {
          const e: Entry = [endWho, end.name];
          for (const action of a.actions) endTagAction(end, action, e);
          record(e);
        })));
    default:
      return attempt(entry, () => el[a.op](a.content.text, opts(a.content)));
  }
}

function endTagAction(end: RewriterEndTag, a: EndTagAction, entry: Entry): void {
  switch (a.op) {
    case 'setName':
      return attempt(entry, () => {
        end.name = a.name;
        return end.name;
      });
    case 'remove':
      return attempt(entry, () => end.remove());
    default:
      return attempt(entry, () => end[a.op](a.content.text, opts(a.content)));
  }
}

function commentAction(c: RewriterComment, a: CommentAction, entry: Entry): void {
  switch (a.op) {
    case 'setText':
      return attempt(entry, () => {
        c.text = a.text;
        return c.text;
      });
    case 'remove':
      return attempt(entry, () => c.remove());
    case 'removed':
      return void entry.push(`removed=${c.removed}`);
    default:
      return attempt(entry, () => c[a.op](a.content.text, opts(a.content)));
  }
}

function textHandler(actions: Gated<TextAction>[], who: string, isAsync: boolean, record: (e: Entry) => void) {
  let nodes = 0;
  let text = '';
  let first = true;
  let entry: Entry = [];
  return handler(isAsync, (chunk: RewriterTextChunk) => {
    const current = gated(actions, nodes);
    if (first) entry = [who, 'text'];
    text += chunk.text;
    for (const a of current) {
      if (a.op === 'before' && first) attempt(entry, () => chunk.before(a.content.text, opts(a.content)));
      if (a.op === 'after' && chunk.lastInTextNode) attempt(entry, () => chunk.after(a.content.text, opts(a.content)));
      if (a.op === 'remove') chunk.remove();
      if (a.op === 'upper') chunk.replace(upperAscii(chunk.text), { html: a.html });
    }
    first = chunk.lastInTextNode;
    if (chunk.lastInTextNode) {
      entry.splice(2, 0, text);
      record(entry);
      text = '';
      nodes++;
    }
  });
}

/** The program in one line per registration, for reports. */
export function describeProgram(program: Program): string {
  const c = (x: Content) => `${JSON.stringify(x.text)}${x.html ? ', html' : ''}`;
  const action = (a: { op: string } & Partial<{ name: string; value: string; content: Content; text: string; html: boolean; actions: EndTagAction[] }>): string => {
    if (a.op === 'onEndTag') return `onEndTag(${(a.actions ?? []).map(action).join('; ')})`;
    const args = [a.name !== undefined ? JSON.stringify(a.name) : '', a.value !== undefined ? JSON.stringify(a.value) : '',
      a.content ? c(a.content) : '', a.text !== undefined ? JSON.stringify(a.text) : '', a.op === 'upper' && a.html ? 'html' : ''].filter(Boolean);
    return `${a.op}(${args.join(', ')})`;
  };
  const list = (name: string, g: Gated<{ op: string }>[] | undefined) =>
    g ? ` ${name}: [${g.map((x) => (x.every === 1 ? '' : `#${x.offset}/${x.every} `) + action(x.action)).join('; ')}]` : '';
  const lines = program.registrations.map((r) =>
    (r.selector === undefined ? 'onDocument' : `on(${JSON.stringify(r.selector)})`) +
    list('element', r.element) + list('comments', r.comments) + list('text', r.text) + (r.doctype ? ' doctype' : '') + list('end', r.end));
  return (program.async ? '(async handlers) ' : '') + (lines.length ? lines.join('\n           ') : '(no handlers)');
}
