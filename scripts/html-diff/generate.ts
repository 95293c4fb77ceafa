// Random cases for the differential checker: a document (from the shared corpora or generated), a
// mutation program whose selectors are built from the document's own vocabulary, and how each side
// cuts the input into chunks. Profile `safe` stays out of the areas where the oracle (lol-html of
// early 2022) and lol-html v3.0.1 differ (SPEC.md §13); `full` goes there too.
import type { Corpus } from './corpus.ts';
import type { CommentAction, Content, ElementAction, EndTagAction, Gated, Program, Registration, TextAction } from './program.ts';
import { Random } from './random.ts';

export type Profile = 'safe' | 'full';

/** How a side cuts the input: one chunk, fixed-size chunks, or seeded random sizes in [1, max]. */
export type Split = { kind: 'whole' } | { kind: 'fixed'; size: number } | { kind: 'random'; seed: number; max: number };

export interface Case {
  source: 'html5lib' | 'regression' | 'generated';
  doc: string;
  program: Program;
  referenceSplit: Split;
  candidateSplit: Split;
}

/** Chunk sizes covering `length` bytes. */
export function chunkSizes(split: Split, length: number): number[] {
  if (split.kind === 'whole') return [length];
  const sizes: number[] = [];
  const r = split.kind === 'random' ? new Random(split.seed) : undefined;
  for (let at = 0; at < length;) {
    const size = Math.min(r ? r.between(1, split.kind === 'random' ? split.max : 1) : split.kind === 'fixed' ? split.size : 1, length - at);
    sizes.push(size);
    at += size;
  }
  return sizes;
}

export function describeSplit(split: Split): string {
  return split.kind === 'whole' ? 'one chunk' : split.kind === 'fixed' ? `${split.size}-byte chunks` : `random chunks of 1–${split.max} bytes (seed ${split.seed})`;
}

export function generateCase(r: Random, profile: Profile, corpus: Corpus): Case {
  for (;;) {
    const source = r.weighted<Case['source']>([
      [corpus.html5lib.length ? 4 : 0, 'html5lib'],
      [corpus.regression.length ? 1 : 0, 'regression'],
      [5, 'generated'],
    ]);
    const doc = source === 'generated' ? generateDocument(r, profile) : r.pick(source === 'html5lib' ? corpus.html5lib : corpus.regression);
    const program = generateProgram(r, profile, vocabulary(doc));
    const c: Case = { source, doc, program, referenceSplit: generateSplit(r), candidateSplit: generateSplit(r) };
    if (profile === 'full' || divergenceArea(doc, program) === undefined) return c;
  }
}

function generateSplit(r: Random): Split {
  return r.weighted<Split>([
    [3, { kind: 'whole' }],
    [1, { kind: 'fixed', size: 1 }],
    [3, { kind: 'fixed', size: r.between(2, 64) }],
    [3, { kind: 'random', seed: r.seed(), max: r.pick([4, 16, 100]) }],
  ]);
}

// ---- SPEC §13: where the oracle is known to differ from v3.0.1 ----

const FOREIGN = /<(?:svg|math)/i;
/** Names lol-html compares by a case-insensitive hash: [a-z1-6], at most 12 characters. */
const HASHABLE = /^[a-z1-6]{1,12}$/i;

/** The §13 area a (document, program) pair touches, or undefined: the safe profile rejects such pairs. */
export function divergenceArea(doc: string, program: Program): string | undefined {
  if (/<!--->|<!-->|--!>/.test(doc)) return 'comment parsing corner cases';
  const foreign = FOREIGN.exec(doc);
  if (foreign) {
    const after = doc.slice(foreign.index);
    if (/<\/(?:p|br)[\s/>]/i.test(after)) return '</p> or </br> in foreign content';
    if ((after.match(/<(?:foreignobject|desc|title|mi|mo|mn|ms|mtext|annotation-xml)[\s/>]/gi) ?? []).length > 1) return 'consecutive integration points';
    // Observed: the oracle runs no handler for an integration point that follows any end tag in
    // foreign content (`<math></x><mi>`), the general form of §13's consecutive integration points.
    if (/<\/[\s\S]*<(?:foreignobject|desc|title|mi|mo|mn|ms|mtext|annotation-xml)[\s/>]/i.test(after)) return 'integration point after an end tag in foreign content';
  }
  const regs = program.registrations;
  const elementActions = regs.flatMap((reg) => reg.element ?? []).map((g) => g.action.op);
  if (elementActions.filter((op) => op === 'onEndTag').length > 1) return 'several onEndTag on one element';
  if (elementActions.some((op) => op === 'selfClosing' || op === 'canHaveContent')) return 'selfClosing / canHaveContent getters';
  const reserialises = elementActions.some((op) => op === 'setAttribute' || op === 'removeAttribute' || op === 'setTagName');
  const insertsInside = elementActions.some((op) => op === 'prepend' || op === 'append' || op === 'setInnerContent');
  if (reserialises && insertsInside && doc.includes('/>')) return '/> on an HTML element + inner content + re-serialised tag';
  const selectors = regs.map((reg) => reg.selector ?? '').join(' ');
  if (notArguments(selectors).some((arg) => !isSimpleSelector(arg))) return ':not() with a compound or list';
  if (/\[[^\]=]*[A-Z]/.test(selectors)) return 'uppercase attribute name in a selector';
  if (/of-type/.test(selectors)) {
    for (const m of doc.matchAll(/<([a-zA-Z][^\s/>]*)/g)) if (/[A-Z]/.test(m[1]) && !HASHABLE.test(m[1])) return ':nth-of-type with mixed-case custom elements';
  }
  // Observed, not in §13: the oracle runs document end handlers in reverse registration order (§2.4: in order).
  if (regs.filter((reg) => reg.end).length > 1) return 'several document end handlers';
  if (/(?:^|[\s,>(])\|[a-zA-Z*]/.test(selectors)) return 'selector with an empty namespace prefix (|a)';
  // Observed, not in §13: the oracle's removeAttribute removes the first of duplicates (§4.1: all).
  if (elementActions.includes('removeAttribute') && hasDuplicateAttributes(doc)) return 'removeAttribute with duplicate attributes';
  const commentTexts = regs.flatMap((reg) => reg.comments ?? []).flatMap((g) => (g.action.op === 'setText' ? [g.action.text] : []));
  if (commentTexts.some((t) => /--!>|^>|^->/.test(t))) return 'comment text validation';
  return undefined;
}

function hasDuplicateAttributes(doc: string): boolean {
  for (const tag of doc.matchAll(/<[a-zA-Z][^\s/>]*([^>]*)/g)) {
    const names = [...tag[1].matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?/g)].map((m) => m[1].toLowerCase());
    if (new Set(names).size < names.length) return true;
  }
  return false;
}

/** The arguments of the :not()s in a selector (quoted strings blanked). */
function notArguments(selector: string): string[] {
  const blank = selector.replace(/"[^"]*"|'[^']*'/g, '""');
  const args: string[] = [];
  for (let i = blank.indexOf(':not('); i !== -1; i = blank.indexOf(':not(', i + 1)) {
    let depth = 0;
    let j = i + 4;
    for (; j < blank.length; j++) {
      if (blank[j] === '(') depth++;
      if (blank[j] === ')' && --depth === 0) break;
    }
    args.push(blank.slice(i + 5, j).trim());
  }
  return args;
}

/** One type/universal, class, id, attribute or pseudo-class selector. */
function isSimpleSelector(arg: string): boolean {
  return /^(?:[a-zA-Z][\w-]*|\*|[.#][\w-]+|\[[^\]]*\]|:[\w-]+(?:\([^()]*\))?)$/.test(arg);
}

// ---- documents ----

const WORDS = ['hello', 'world', 'foo', 'bar', 'Lorem ipsum', 'x', ' ', '\n', '  \t', 'a < b', 'a > b', 'AT&T', '1 & 2', 'café', 'naïve', '日本語', 'Ω≈ç', '😀🎉', 'ñ', '\u00a0'];
const REFS = ['&amp;', '&lt;', '&gt;', '&quot;', '&#169;', '&#x1F600;', '&#xD800;', '&nbsp', '&nbsp;', '&notin;', '&notit;', '&', '&#', '&#x', '&;', '&AMP;', '&#0;'];
const EMAILS = ['john.doe@example.com', 'a+b@sub.example.co.uk', 'contact@frontline.test', 'x@y.z', 'mailto:info@example.org'];
const HTML_TAGS = ['div', 'p', 'span', 'a', 'b', 'i', 'em', 'ul', 'li', 'section', 'article', 'table', 'tr', 'td', 'form', 'button', 'h1', 'h2', 'label', 'select', 'option', 'body', 'head', 'html', 'nav', 'template', 'font', 'pre', 'center'];
const VOID_TAGS = ['br', 'img', 'input', 'hr', 'meta', 'link', 'wbr', 'source', 'area', 'col', 'embed', 'param'];
const CUSTOM_TAGS = ['my-el', 'x-foo', 'custom_tag', 'averyveryverylongname', 'esi:include'];
const RAW_TAGS = ['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript'];
const SVG_TAGS = ['g', 'path', 'rect', 'circle', 'text', 'a', 'use', 'linearGradient', 'clipPath', 'style', 'script', 'font'];
const MATH_TAGS = ['mrow', 'mfrac', 'msup', 'mspace', 'semantics', 'style'];
const BREAKOUT = ['p', 'div', 'b', 'span', 'img', 'br', 'ul', 'table'];
const ATTR_NAMES = ['href', 'src', 'class', 'id', 'title', 'data-x', 'lang', 'type', 'rel', 'alt', 'style', 'onclick', 'xlink:href', 'dir', 'target', 'name', 'value'];
const ATTR_VALUES = ['x', 'a b', 'foo', 'bar baz', 'http://example.com/a?b=1&amp;c=2', 'https://example.org/', '/p/1', 'EN', 'en-US', 'TEXT', 'ltr', '', 'a>b', 'é', 'x&y', '&quot;q&quot;', 'nofollow', '_blank', 'hidden', 'c1 c2', 'main'];
const CLASSES = ['c1', 'c2', 'c3', 'nav', 'main', 'Big'];
const IDS = ['main', 'top', 'x1', 'Foo'];
const DOCTYPES = ['<!DOCTYPE html>', '<!doctype html>', '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">', "<!DOCTYPE html SYSTEM 'about:legacy-compat'>", '<!DOCTYPE>', '<!doctypehtml>', '<!DOCTYPE html PUBLIC>'];
const COMMENTS = ['<!-- comment -->', '<!---->', '<!-- a -- b -->', '<!--x--->', '<?php echo 1 ?>', '<!bogus>', '</3>', '<![CDATA[in html]]>', '<!-- é 😀 -->', '<!--<p>-->'];
const RISKY_COMMENTS = ['<!-->', '<!--->', '<!-- x --!>', '<!--!>'];
const SCRIPT_BODIES = ['var a = 1 < 2 && b > 3;', 'x = "</scr" + "ipt>";', '<!-- <script>a</script> -->', '<!--<script>-->', 'if (a<b) {}', '</script', 'document.write("<p>")', '<!-- x', 'a@b.com', '</scriptx>y'];
const RAW_BODIES = ['a < b & c > d', '<b>not a tag</b>', '&amp; &lt;', '</styl', '<!-- c -->', 'é', '</textarea', 'x</titlex>y'];

interface DocContext {
  r: Random;
  profile: Profile;
  budget: number;
  /** Under an <svg> or <math> root (the safe profile then writes no </p> or </br>). */
  foreign: boolean;
}

export function generateDocument(r: Random, profile: Profile): string {
  const ctx: DocContext = { r, profile, budget: r.between(3, 40), foreign: false };
  const body = children(ctx, 'html', 0);
  let doc = r.chance(0.3) ? r.pick(DOCTYPES) + (r.chance(0.5) ? '\n' : '') : '';
  if (r.chance(0.2)) doc += '<html><head><title>t</title></head><body>';
  doc += body || text(r);
  if (r.chance(0.1)) {
    const points = Array.from(doc);
    doc = points.slice(0, r.int(points.length + 1)).join('');
  }
  if (r.chance(0.05)) doc += `<plaintext>${r.pick(RAW_BODIES)}</plaintext><p>`;
  return doc;
}

function children(ctx: DocContext, ns: 'html' | 'svg' | 'math', depth: number): string {
  const { r } = ctx;
  let out = '';
  const n = r.between(0, depth > 4 ? 1 : 4);
  for (let i = 0; i < n && ctx.budget > 0; i++) {
    ctx.budget--;
    out += r.weighted<() => string>([
      [5, () => text(r)],
      [6, () => element(ctx, ns, depth)],
      [1, () => r.pick(ctx.profile === 'full' && r.chance(0.3) ? RISKY_COMMENTS : COMMENTS)],
      [ns === 'html' ? 1 : 0, () => rawText(ctx)],
      [ns === 'html' && depth < 4 ? 1 : 0, () => foreignRoot(ctx, depth)],
      [ns !== 'html' ? 2 : 0, () => `<![CDATA[${r.pick(['a<b', '</svg>', ']]', 'x]]y', ''])}]]>`],
      [0.3, () => r.pick(DOCTYPES)],
      [0.5, () => (ctx.foreign && ctx.profile === 'safe' ? '' : `</${r.pick([...HTML_TAGS, 'p', 'br'])}>`)],
    ])();
  }
  return out;
}

function text(r: Random): string {
  let s = '';
  for (let i = r.between(1, 4); i > 0; i--) s += r.weighted<() => string>([[6, () => r.pick(WORDS)], [2, () => r.pick(REFS)], [1, () => ` ${r.pick(EMAILS)} `], [0.5, () => '<'], [0.3, () => '\r\n'], [0.2, () => '\0']])();
  return s;
}

function caseVariant(r: Random, name: string): string {
  return r.weighted([[6, name], [1, name.toUpperCase()], [1, name[0].toUpperCase() + name.slice(1)]]);
}

function attributes(r: Random, ns: string): string {
  let s = '';
  for (let i = r.weighted([[3, 0], [4, 1], [2, 2], [1, 3]]); i > 0; i--) {
    const name = r.chance(0.15) ? caseVariant(r, r.pick(ATTR_NAMES)) : r.pick(ATTR_NAMES);
    const value = name.toLowerCase() === 'class' ? r.pick([...CLASSES, `${r.pick(CLASSES)} ${r.pick(CLASSES)}`]) : name.toLowerCase() === 'id' ? r.pick(IDS) : r.pick(ATTR_VALUES);
    const quoted = r.weighted<() => string>([
      [5, () => `${name}="${value.replaceAll('"', '&quot;')}"`],
      [2, () => `${name}='${value.replaceAll("'", '"')}'`],
      [2, () => `${name}=${value.replace(/[\s"'<>=`]/g, '') || 'v'}`],
      [1, () => name],
      [1, () => `${name} = "${value}"`],
      [ns === 'math' ? 2 : 0, () => `encoding="${r.pick(['text/html', 'TEXT/HTML', 'application/xhtml+xml', 'image/svg+xml'])}"`],
    ])();
    s += (r.chance(0.1) ? '\n\t' : ' ') + quoted;
    if (r.chance(0.05)) s += ` ${quoted}`;
  }
  return s;
}

function element(ctx: DocContext, ns: 'html' | 'svg' | 'math', depth: number): string {
  const { r } = ctx;
  if (ns !== 'html' && r.chance(0.15)) {
    // Breakout: an HTML start tag in foreign content returns to HTML.
    const tag = r.pick(BREAKOUT);
    return `<${tag}${tag === 'font' ? ' color=red' : ''}>${children(ctx, 'html', depth + 1)}`;
  }
  if (ns === 'html' && r.chance(0.15)) return `<${caseVariant(r, r.pick(VOID_TAGS))}${attributes(r, ns)}${r.chance(0.3) ? ' /' : ''}>`;
  const pool = ns === 'svg' ? SVG_TAGS : ns === 'math' ? MATH_TAGS : r.chance(0.1) ? CUSTOM_TAGS : HTML_TAGS;
  const base = r.pick(pool);
  const custom = !HASHABLE.test(base);
  const name = custom && ctx.profile === 'safe' ? base : caseVariant(r, base);
  if (r.chance(ns === 'html' ? 0.05 : 0.25)) return `<${name}${attributes(r, ns)}/>`;
  const open = `<${name}${attributes(r, ns)}>`;
  const inner = children(ctx, ns, depth + 1);
  const forbidden = ctx.foreign && ctx.profile === 'safe' && /^(?:p|br)$/i.test(name);
  const close = forbidden ? '' : r.weighted([[8, `</${name}>`], [1, ''], [1, `</${name.toUpperCase()} >`], [0.5, `</${name} class="x">`]]);
  return open + inner + close;
}

function rawText(ctx: DocContext): string {
  const { r } = ctx;
  const tag = r.pick(RAW_TAGS);
  const body = tag === 'script' ? r.pick(SCRIPT_BODIES) : r.pick(RAW_BODIES) + (r.chance(0.3) ? ` ${r.pick(EMAILS)}` : '');
  const close = r.weighted([[8, `</${tag}>`], [1, `</${tag.toUpperCase()}>`], [1, `</${tag} >`]]);
  return `<${caseVariant(r, tag)}${attributes(r, 'html')}>${body}${close}`;
}

function foreignRoot(ctx: DocContext, depth: number): string {
  const { r } = ctx;
  const svg = r.chance(0.6);
  const wasForeign = ctx.foreign;
  ctx.foreign = true;
  let inner = children(ctx, svg ? 'svg' : 'math', depth + 1);
  if (r.chance(0.5)) {
    // One integration point per root (several in a row are a §13 area).
    const point = svg ? r.pick(['foreignObject', 'desc', 'title']) : r.pick(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml']);
    const attrs = point === 'annotation-xml' ? ` encoding="${r.pick(['text/html', 'application/xhtml+xml', 'text/plain'])}"` : '';
    inner += `<${caseVariant(r, point)}${attrs}>${children(ctx, 'html', depth + 2)}</${point}>`;
  }
  inner += children(ctx, svg ? 'svg' : 'math', depth + 1);
  ctx.foreign = wasForeign;
  const root = svg ? 'svg' : 'math';
  return `<${caseVariant(r, root)}${attributes(r, 'html')}>${inner}${r.chance(0.85) ? `</${root}>` : ''}`;
}

// ---- vocabulary of a document, for selectors that match something ----

export interface Vocabulary {
  tags: string[];
  classes: string[];
  ids: string[];
  attributes: string[];
  values: string[];
}

export function vocabulary(doc: string): Vocabulary {
  const tags = new Set<string>();
  const attributes = new Set<string>();
  const values = new Set<string>();
  const classes = new Set<string>();
  const ids = new Set<string>();
  for (const m of doc.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)) {
    tags.add(m[1].toLowerCase());
    for (const a of m[2].matchAll(/([a-zA-Z][a-zA-Z-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
      const name = a[1].toLowerCase();
      const value = a[2] ?? a[3] ?? a[4] ?? '';
      attributes.add(name);
      if (value.length < 40) values.add(value);
      if (name === 'class') for (const c of value.split(/\s+/)) if (/^[a-zA-Z_][\w-]*$/.test(c)) classes.add(c);
      if (name === 'id' && /^[a-zA-Z_][\w-]*$/.test(value)) ids.add(value);
    }
  }
  return { tags: [...tags].filter((t) => t.length < 30), classes: [...classes], ids: [...ids], attributes: [...attributes], values: [...values] };
}

// ---- selectors (SPEC §5.1) ----

const NTH = ['odd', 'even', '1', '2', '3', '2n+1', '-n+3', 'n', '3n', '2n', '-2n+5', '0n+1', ' 2n + 1 '];
const REJECTED = ['a + b', 'p ~ span', ':hover', 'p::before', ':last-child', ':only-child', ':root', ':empty', ':has(a)', 'svg|rect', 'div >', 'a >> b', '', 'a,', '[', '[a=/x]', '.1x', ':nth-child(2 of .a)', ':is(a)'];
/** Rejected by SPEC §5.2 but accepted by the oracle (observed, not in §13): the full profile only. */
const REJECTED_BY_SPEC_ONLY = ['|a'];

export function generateSelector(r: Random, profile: Profile, v: Vocabulary): string {
  if (r.chance(0.04)) return r.pick(profile === 'full' && r.chance(0.2) ? REJECTED_BY_SPEC_ONLY : REJECTED);
  const complex = (): string => {
    let s = compound(r, profile, v);
    for (let i = r.weighted([[7, 0], [3, 1], [0.5, 2]]); i > 0; i--) s = `${compound(r, profile, v)}${r.pick([' ', ' > ', '>'])}${s}`;
    return s;
  };
  return r.chance(0.15) ? `${complex()}, ${complex()}` : complex();
}

function identifier(r: Random, list: string[], fallback: string[]): string {
  return list.length && r.chance(0.9) ? r.pick(list) : r.pick(fallback);
}

function simple(r: Random, profile: Profile, v: Vocabulary, inNot: boolean): string {
  return r.weighted<() => string>([
    [3, () => `.${identifier(r, v.classes, CLASSES)}`],
    [2, () => `#${identifier(r, v.ids, IDS)}`],
    [4, () => attributeSelector(r, profile, v)],
    [1, () => ':first-child'],
    [1, () => `:nth-child(${r.pick(NTH)})`],
    [1, () => ':first-of-type'],
    [1, () => `:nth-of-type(${r.pick(NTH)})`],
    [inNot ? 1 : 0, () => identifier(r, v.tags, HTML_TAGS)],
    [inNot ? 0.3 : 0, () => '*'],
    [inNot ? 0 : 1.5, () => `:not(${notArgument(r, profile, v)})`],
  ])();
}

function notArgument(r: Random, profile: Profile, v: Vocabulary): string {
  if (profile === 'full' && r.chance(0.3)) return r.chance(0.5) ? `${simple(r, profile, v, true)}${simple(r, profile, v, true)}` : `${simple(r, profile, v, true)}, ${simple(r, profile, v, true)}`;
  return simple(r, profile, v, true);
}

function compound(r: Random, profile: Profile, v: Vocabulary): string {
  let s = r.weighted([[7, identifier(r, v.tags, HTML_TAGS)], [1, '*'], [1, '']]);
  if (s && r.chance(0.2)) s = s.toUpperCase();
  for (let i = r.weighted([[s ? 6 : 0, 0], [4, 1], [0.5, 2]]); i > 0; i--) s += simple(r, profile, v, false);
  return s || '*';
}

function attributeSelector(r: Random, profile: Profile, v: Vocabulary): string {
  let name = identifier(r, v.attributes, ATTR_NAMES).replace(':', '\\:');
  if (profile === 'full' && r.chance(0.2)) name = name.toUpperCase();
  const op = r.pick(['', '', '=', '~=', '|=', '^=', '$=', '*=']);
  if (!op) return `[${name}]`;
  const value = identifier(r, v.values, ATTR_VALUES);
  const partial = op === '^=' || op === '$=' || op === '*=' ? value.slice(0, r.between(0, value.length)) : value;
  const quoted = /^[a-zA-Z_][\w-]*$/.test(partial) && r.chance(0.5) ? partial : JSON.stringify(partial);
  const flag = r.weighted([[8, ''], [2, ' i'], [profile === 'full' ? 1 : 0, ' s']]);
  return `[${name}${op}${quoted}${flag}]`;
}

// ---- programs ----

const CONTENTS = ['X', '<b>bold</b>', 'a&b<c>"d"', '<!--c-->', '', 'é😀', '</p>', '<script>1<2</script>', '&amp;', '<img src=x>'];
const NEW_ATTR_NAMES = ['data-new', 'HREF', 'class', 'id', 'title', 'a b', '', 'x/y', 'é'];
const NEW_ATTR_VALUES = ['v', 'a"b', 'x&amp;y', 'é', '', "q'q", '<>'];
const NEW_TAG_NAMES = ['section', 'B', 'x-y', 'span', '1a', 'a b', '', 'é'];
const COMMENT_TEXTS = [' new ', '', 'a-b', 'é', 'a--b', 'x-->y'];
const RISKY_COMMENT_TEXTS = ['--!>', '>x', '->x'];

function content(r: Random): Content {
  return { text: r.pick(CONTENTS), html: r.chance(0.5) };
}

function gate<A>(r: Random, action: A): Gated<A> {
  const every = r.weighted([[6, 1], [2, 2], [1, 3]]);
  return { every, offset: r.int(every), action };
}

function actions<A>(r: Random, make: () => A | undefined): Gated<A>[] {
  const list: Gated<A>[] = [];
  for (let i = r.weighted([[1, 0], [5, 1], [3, 2], [1, 4]]); i > 0; i--) {
    const a = make();
    if (a !== undefined) list.push(gate(r, a));
  }
  return list;
}

function elementAction(r: Random, profile: Profile, v: Vocabulary, endTagAllowed: { left: number }): ElementAction | undefined {
  const attr = () => (v.attributes.length && r.chance(0.7) ? r.pick(v.attributes) : r.pick(NEW_ATTR_NAMES));
  return r.weighted<() => ElementAction | undefined>([
    [3, () => ({ op: 'getAttribute', name: attr() })],
    [1, () => ({ op: 'hasAttribute', name: attr() })],
    [2, () => ({ op: 'attributes' })],
    [3, () => ({ op: 'setAttribute', name: attr(), value: r.pick(NEW_ATTR_VALUES) })],
    [2, () => ({ op: 'removeAttribute', name: attr() })],
    [1, () => ({ op: 'setTagName', name: r.pick(NEW_TAG_NAMES) })],
    [6, () => ({ op: r.pick(['before', 'after', 'prepend', 'append', 'replace', 'setInnerContent'] as const), content: content(r) })],
    [1, () => ({ op: 'remove' })],
    [1, () => ({ op: 'removeAndKeepContent' })],
    [1, () => ({ op: 'removed' })],
    [profile === 'full' ? 0.5 : 0, () => ({ op: r.pick(['selfClosing', 'canHaveContent'] as const) })],
    [2, () => {
      if (endTagAllowed.left <= 0) return undefined;
      endTagAllowed.left--;
      return { op: 'onEndTag', actions: endTagActions(r) };
    }],
  ])();
}

function endTagActions(r: Random): EndTagAction[] {
  const list: EndTagAction[] = [];
  for (let i = r.between(0, 2); i > 0; i--) {
    list.push(r.weighted<EndTagAction>([
      [3, { op: r.pick(['before', 'after'] as const), content: content(r) }],
      [1, { op: 'remove' }],
      [1, { op: 'setName', name: r.pick(['span', 'X', 'section']) }],
    ]));
  }
  return list;
}

function commentAction(r: Random, profile: Profile): CommentAction {
  return r.weighted<CommentAction>([
    [2, { op: 'setText', text: r.pick(profile === 'full' && r.chance(0.3) ? RISKY_COMMENT_TEXTS : COMMENT_TEXTS) }],
    [3, { op: r.pick(['before', 'after', 'replace'] as const), content: content(r) }],
    [1, { op: 'remove' }],
    [1, { op: 'removed' }],
  ]);
}

function textAction(r: Random): TextAction {
  return r.weighted<TextAction>([
    [3, { op: r.pick(['before', 'after'] as const), content: content(r) }],
    [1, { op: 'remove' }],
    [2, { op: 'upper', html: r.chance(0.5) }],
  ]);
}

export function generateProgram(r: Random, profile: Profile, v: Vocabulary): Program {
  const registrations: Registration[] = [];
  // One onEndTag per program in the safe profile: the oracle runs only the last of several.
  const endTagAllowed = { left: profile === 'safe' ? 1 : 3 };
  for (let i = r.weighted([[0.5, 0], [4, 1], [4, 2], [2, 3], [1, 4]]); i > 0; i--) {
    if (r.chance(0.75)) {
      const reg: Registration = { selector: generateSelector(r, profile, v) };
      const kinds = r.weighted([[6, ['element']], [2, ['text']], [2, ['comments']], [2, ['element', 'text', 'comments']]]);
      if (kinds.includes('element')) reg.element = actions(r, () => elementAction(r, profile, v, endTagAllowed));
      if (kinds.includes('text')) reg.text = actions(r, () => textAction(r));
      if (kinds.includes('comments')) reg.comments = actions(r, () => commentAction(r, profile));
      registrations.push(reg);
    } else {
      const reg: Registration = {};
      if (r.chance(0.4)) reg.doctype = true;
      if (r.chance(0.4)) reg.comments = actions(r, () => commentAction(r, profile));
      if (r.chance(0.4)) reg.text = actions(r, () => textAction(r));
      if (r.chance(0.4) || (!reg.doctype && !reg.comments && !reg.text)) reg.end = actions(r, () => ({ op: 'append' as const, content: content(r) }));
      registrations.push(reg);
    }
  }
  return { registrations, async: r.chance(0.15) };
}
