// Unit tests of the rewriter per SPEC section, the v3.0.1 side of the §13 divergences, the
// Workers transform() and the Node Transform form, and the no-handler round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AttributeNameError, CommentTextError, ExpiredTokenError, HTMLRewriter, HTMLRewriterTransform, MemoryLimitExceededError,
  ParsingAmbiguityError, RewriterPoisonedError, SelectorError, TagNameError, type Element,
} from '../../src/html/index.ts';
import { SHARED, seededRandom, randomChunks, rewrite, rewriteAsync, rewriteString } from './helpers.ts';

test('§3 escaping: text content escapes & < > only; html content is verbatim; attribute values escape "', () => {
  const out = rewriteString('<p>x</p>', (r) => r.on('p', {
    element(el) { el.before('<a & "q">'); el.after('<b>', { html: true }); el.setAttribute('t', 'a"b&amp;'); },
  }));
  assert.equal(out, '&lt;a &amp; "q"&gt;<p t="a&quot;b&amp;">x</p><b>');
});

test('§4.0 insertion order: before appends, after prepends, replace wins, remove keeps the replacement', () => {
  const out = rewriteString('<!--c-->', (r) => r.onDocument({
    comments(c) { c.before('1'); c.before('2'); c.after('3'); c.after('4'); c.remove(); c.replace('R'); },
  }));
  assert.equal(out, '12R43');
});

test('§4.1 element mutations and start-tag re-serialisation', () => {
  const src = '<DIV x = "1" class="a b" class="c" y>t</DIV>';
  assert.equal(rewriteString(src, (r) => r.on('div', { element(el) { el.setAttribute('class', 'z'); } })),
    '<DIV x = "1" class="z" class="c" y>t</DIV>');
  assert.equal(rewriteString(src, (r) => r.on('div', { element(el) { el.removeAttribute('CLASS'); } })), '<DIV x = "1" y>t</DIV>');
  assert.equal(rewriteString(src, (r) => r.on('div', { element(el) { el.removeAttribute('nope'); } })), src);
  assert.equal(rewriteString(src, (r) => r.on('div', { element(el) { el.tagName = 'Span'; } })), '<Span x = "1" class="a b" class="c" y>t</Span>');
  assert.equal(rewriteString('<p>x</p>', (r) => r.on('p', { element(el) { el.setInnerContent('S'); el.append('A'); el.prepend('P'); } })), '<p>PSA</p>');
  assert.equal(rewriteString('<div>x</div>', (r) => r.on('div', { element(el) { el.prepend('P'); el.append('A'); el.removeAndKeepContent(); } })), 'PxA');
  assert.equal(rewriteString('<p>1</p><p>2</p>', (r) => r.on('p', { element(el) { el.prepend('1'); el.prepend('2'); } })), '<p>211</p><p>212</p>');
  assert.equal(rewriteString('<img src=a><br/>', (r) => r.on('img, br', { element(el) { el.append('X'); el.prepend('Y'); el.after('F'); } })), '<img src=a>F<br/>F');
  // v3: inserting content into `<div/>` drops the `/` when the tag is re-serialised.
  assert.equal(rewriteString('<div a="b"/>x</div>', (r) => r.on('div', { element(el) { el.setAttribute('c', 'd'); el.append('A'); } })), '<div a="b" c="d">xA</div>');
  // One attribute set anew: written in place when the source is spaced as it is serialised, else the tag anew.
  const setHref = (html: string, options = {}): string => rewriteString(html, (r) => r.on('a, img', { element(el) {
    el.setAttribute(el.hasAttribute('src') ? 'src' : 'HREF', 'N"');
  } }), options);
  assert.equal(setHref('<a href=x id=y>t</a>'), '<a href="N&quot;" id=y>t</a>');
  assert.equal(setHref('<a id=\'y\' HREF="x">t</a><a href>u</a>'), '<a id=\'y\' href="N&quot;">t</a><a href="N&quot;">u</a>');
  assert.equal(setHref('<a  href=x>t</a><a href=x\nid=y >u</a><a href=x\t>v</a>'), '<a href="N&quot;">t</a><a href="N&quot;" id=y>u</a><a href="N&quot;">v</a>');
  assert.equal(setHref('<img src="x"/><img src=x /><img src=x/>'), '<img src="N&quot;" /><img src="N&quot;" /><img src="N&quot;">');
  assert.equal(setHref('<a b href=x><a b>'), '<a b href="N&quot;"><a b href="N&quot;">');
  // A value read and set back is written as read; another one is encoded.
  assert.equal(rewriteString('<a href=x&amp;>t</a>', (r) => r.on('a', { element(el) {
    el.setAttribute('href', el.getAttribute('href') as string);
    el.setAttribute('title', '\u00e9');
  } })), '<a href="x&amp;" title="\u00e9">t</a>');
  assert.equal(setHref('<p><a href=x></p>'.repeat(2), { }), '<p><a href="N&quot;"></p>'.repeat(2));
  const seen: unknown[] = [];
  rewriteString('<svg><rect/></svg><div/>', (r) => r.on('rect, div', { element(el) { seen.push([el.tagName, el.selfClosing, el.canHaveContent]); } }));
  assert.deepEqual(seen, [['rect', true, false], ['div', true, true]]);
});

test('§4.1 attribute access: raw values, case-insensitive names, later handlers see earlier mutations', () => {
  const seen: unknown[] = [];
  rewriteString('<a HREF="x&amp;y" b>', (r) => r
    .on('a', { element(el) { seen.push(el.getAttribute('href'), el.getAttribute('B'), el.hasAttribute('c'), [...el.attributes]); el.setAttribute('c', '1'); } })
    .on('a', { element(el) { seen.push(el.getAttribute('c')); } }));
  assert.deepEqual(seen, ['x&amp;y', '', false, [['href', 'x&amp;y'], ['b', '']], '1']);
});

test('§4.1 validation errors are thrown to the handler', () => {
  rewriteString('<p><!--c--></p>', (r) => r.on('p', {
    element(el) {
      assert.throws(() => { el.tagName = ''; }, TagNameError);
      assert.throws(() => { el.tagName = '1a'; }, (e: unknown) => e instanceof TagNameError && e.kind === 'InvalidFirstCharacter');
      assert.throws(() => { el.tagName = 'a b'; }, (e: unknown) => e instanceof TagNameError && e.kind === 'ForbiddenCharacter');
      assert.throws(() => el.setAttribute('a=b', ''), AttributeNameError);
      assert.throws(() => el.setAttribute('', ''), AttributeNameError);
    },
    comments(c) {
      for (const bad of ['a-->b', 'a--!>b', '>a', '->a']) assert.throws(() => { c.text = bad; }, CommentTextError);
    },
  }));
  assert.throws(() => rewriteString('<img>', (r) => r.on('img', { element(el) { el.onEndTag(() => {}); } })), TypeError);
});

test('§4.2 end-tag work on implicitly closed elements and several onEndTag handlers (v3)', () => {
  assert.equal(rewriteString('<div><span>x</div>', (r) => r.on('span', { element(el) { el.tagName = 'b'; } })), '<div><b>x</b>');
  assert.equal(rewriteString('<div><span>x</div>y', (r) => r.on('span', { element(el) { el.remove(); } })), '<div>y');
  assert.equal(rewriteString('<div><span>x</div>', (r) => r.on('div', { element(el) { el.append('D'); } }).on('span', { element(el) { el.append('S'); } })), '<div><span>xD</div>');
  const tags = rewriteString('<div><span><i>x</div>', (r) => r.on('*', { element(el) { const n = el.tagName; el.onEndTag((e) => { e.before(`[/${n}]`); }); } }));
  assert.equal(tags, '<div><span><i>x[/i][/span][/div]</div>');
  assert.equal(rewriteString('<p>x</p>', (r) => r.on('p', { element(el) { el.onEndTag((e) => { e.before('1'); }); el.onEndTag((e) => { e.after('2'); e.name = 'Q'; }); } })), '<p>x1</Q>2');
  // Unclosed at EOF: no end-tag work.
  assert.equal(rewriteString('<p>x', (r) => r.on('p', { element(el) { el.append('A'); el.after('F'); } })), '<p>x');
});

test('text chunks cover at most 1 KiB of input, cut between characters, as lol-html hands them out', () => {
  const cases: [string, number[]][] = [
    // Chunk sizes in UTF-8 bytes as the oracle gives them for the same writes (0..700, 700..2100, rest).
    [`<p>${'a'.repeat(1023)}\u00e9${'b'.repeat(2000)}</p>`, [697, 1024, 376, 928, 0]],
    [`<script>${'x'.repeat(2500)}</script>`, [692, 1024, 376, 408, 0]],
    [`<p>${'\u00e9'.repeat(1500)}</p>`, [696, 1024, 376, 904, 0]],
  ];
  for (const [html, sizes] of cases) {
    const bytes = Buffer.from(html);
    const seen: number[] = [];
    let text = '';
    const chunks = [bytes.subarray(0, 700), bytes.subarray(700, 2100), bytes.subarray(2100)];
    const out = rewrite(chunks, (r) => r.onDocument({ text(t) {
      seen.push(Buffer.byteLength(t.text));
      text += t.text;
      t.replace(t.text.toUpperCase());
    } }));
    const inner = html.slice(html.indexOf('>') + 1, html.lastIndexOf('<'));
    assert.deepEqual(seen, sizes);
    assert.equal(text, inner);
    assert.equal(out.toString(), html.replace(inner, inner.toUpperCase()));
    assert.deepEqual(rewrite(chunks, (r) => r.onDocument({ text() {} })), bytes);
  }
});

test('§4.3–4.6 comments, text chunks, doctype and document end', () => {
  const seen: unknown[] = [];
  const out = rewriteString('<!DOCTYPE HTML PUBLIC "p" \'s\'><p>a&amp;b</p><?pi?>', (r) => r.onDocument({
    doctype(d) { seen.push([d.name, d.publicId, d.systemId]); },
    comments(c) { seen.push(c.text); c.text = 'X'; },
    text(t) { seen.push([t.text, t.lastInTextNode]); },
    end(e) { e.append('<!--end-->', { html: true }); },
  }));
  assert.equal(out, '<!DOCTYPE HTML PUBLIC "p" \'s\'><p>a&amp;b</p><!--X--><!--end-->');
  assert.deepEqual(seen, [['html', 'p', 's'], ['a&amp;b', false], ['', true], '?pi?']);
  assert.equal(rewriteString('', (r) => r.onDocument({ end(e) { e.append('E'); } })), 'E');
  assert.equal(rewriteString('', () => {}), '');
});

test('§2.3 comments/text handlers fire inside matched elements only, and inside removed content', () => {
  const seen: string[] = [];
  const out = rewriteString('<div>a<!--c--><b>b</b></div>d<img>', (r) => r
    .on('div', { element(el) { el.remove(); }, text(t) { if (t.text !== '') seen.push(t.text); }, comments(c) { seen.push(`!${c.text}`); } })
    .on('b', { element(el) { seen.push(`b removed=${el.removed}`); } })
    .on('img', { text() { seen.push('never'); } }));
  assert.equal(out, 'd<img>');
  assert.deepEqual(seen, ['a', '!c', 'b removed=true', 'b']);
});

test('§2.4 selector handlers run before document handlers whatever the registration order', () => {
  const order: string[] = [];
  rewriteString('<p>x</p>', (r) => r
    .onDocument({ text(t) { if (t.text) order.push('doc1'); } })
    .on('p', { text(t) { if (t.text) order.push('sel1'); } })
    .onDocument({ text(t) { if (t.text) order.push('doc2'); } })
    .on('*', { text(t) { if (t.text) order.push('sel2'); } }));
  assert.deepEqual(order, ['sel1', 'sel2', 'doc1', 'doc2']);
});

test('§5 selectors: grammar, rejections, :not quirks, case rules', () => {
  const matches = (html: string, sel: string): string => rewriteString(html, (r) => r.on(sel, { element(el) { el.before('*'); } }));
  assert.equal(matches('<a HREF=x><b>', '[HREF]'), '*<a HREF=x><b>');
  assert.equal(matches('<p lang=EN>1</p><p title=EN>2</p>', '[lang=en], [title=en]'), '*<p lang=EN>1</p><p title=EN>2</p>');
  assert.equal(matches('<p class="A b">', '.a'), '<p class="A b">');
  assert.equal(matches('<p class="a">1</p><p class="b">2</p><p class="a b">3</p><p>4</p>', 'p:not(.a.b)'), '<p class="a">1</p><p class="b">2</p><p class="a b">3</p>*<p>4</p>');
  assert.equal(matches('<p class="a">1</p><p class="b">2</p><p>3</p>', 'p:not(.a, .b)'), '<p class="a">1</p><p class="b">2</p>*<p>3</p>');
  assert.equal(matches('<p>1</p><i>2</i>', ':not(:not(p))'), '*<p>1</p><i>2</i>');
  assert.equal(matches('<ul><li>1<li>2', 'li li'), '<ul><li>1*<li>2');
  assert.equal(matches('<a href="&#x61;">', '[href="a"]'), '<a href="&#x61;">');
  assert.equal(matches('<esi:include src=x><p>', 'esi\\:include'), '*<esi:include src=x><p>');
  assert.equal(matches('<div><p>1</p><i>2</i><p>3</p></div>', 'p:nth-of-type(2), i:nth-child(2)'), '<div><p>1</p>*<i>2</i>*<p>3</p></div>');
  assert.equal(matches('<x-A></x-A><X-a></X-a>', 'x-a:nth-of-type(2)'), '<x-A></x-A>*<X-a></X-a>');
  const rejects: [string, string][] = [
    ['a + b', 'UnsupportedCombinator'], ['a ~ b', 'UnsupportedCombinator'], [':hover', 'UnsupportedPseudoClassOrElement'],
    ['::before', 'UnsupportedPseudoClassOrElement'], [':last-child', 'UnsupportedPseudoClassOrElement'], [':has(a)', 'UnsupportedPseudoClassOrElement'],
    ['svg|rect', 'NamespacedSelector'], ['[*|a]', 'NamespacedSelector'], ['', 'EmptySelector'], ['a,', 'EmptySelector'], [':not()', 'EmptySelector'],
    ['div >', 'DanglingCombinator'], ['a >> b', 'DanglingCombinator'], ['[', 'UnexpectedEnd'], ['div.', 'UnexpectedEnd'],
    ['[a=/x]', 'UnexpectedTokenInAttribute'], ['div[foo~"bar"]', 'UnexpectedTokenInAttribute'], ['.1x', 'InvalidClassName'], ['.foo()', 'InvalidClassName'],
    ['div@', 'UnexpectedToken'], [':nth-child(n of a)', 'UnexpectedToken'], [':not(a b)', 'UnsupportedPseudoClassOrElement'],
    ['div[="foo"]', 'MissingAttributeName'],
  ];
  for (const [sel, kind] of rejects) {
    assert.throws(() => new HTMLRewriter().on(sel, {}), (e: unknown) => e instanceof SelectorError && e instanceof TypeError && e.kind === kind, sel);
  }
});

test('§6 tokenizing: text types, foreign content, CDATA, mXSS reference outcomes', () => {
  const tags = (html: string): string[] => {
    const seen: string[] = [];
    rewriteString(html, (r) => r.on('*', { element(el) { seen.push(`${el.tagName}:${el.namespaceURI.slice(-5)}`); } }));
    return seen;
  };
  assert.deepEqual(tags('<svg><p><style><!--</style><img>--></style>'), ['svg:0/svg', 'p:xhtml', 'style:xhtml', 'img:xhtml']);
  assert.deepEqual(tags('<noscript><p alt="</noscript><img>">'), ['noscript:xhtml', 'img:xhtml']);
  assert.deepEqual(tags('<math><annotation-xml encoding="text/HTML"><style><img>'), ['math:athML', 'annotation-xml:xhtml', 'style:xhtml']);
  assert.deepEqual(tags('<svg><style><img></style></svg><style><img></style>'), ['svg:0/svg', 'style:0/svg', 'img:xhtml', 'style:xhtml']);
  assert.deepEqual(tags('<script><!--<script></script><b></script><i>'), ['script:xhtml', 'i:xhtml']);
  // v3: </p> inside foreign content pops the namespace.
  assert.deepEqual(tags('<svg></p><a></a>'), ['svg:0/svg', 'a:xhtml']);
  const texts: string[] = [];
  rewriteString('<svg><![CDATA[a<b>]]></svg><![CDATA[x]]>', (r) => r.onDocument({ text(t) { if (t.text) texts.push(t.text); }, comments(c) { texts.push(`!${c.text}`); } }));
  assert.deepEqual(texts, ['a<b>', '![CDATA[x]]']);
});

test('§6.4 ambiguity guard: strict mode throws and poisons; non-strict applies the switch', () => {
  const out: Buffer[] = [];
  const r = new HTMLRewriter((c) => out.push(Buffer.from(c)));
  assert.throws(() => r.write(Buffer.from('<select><b>x</b><xmp>')), ParsingAmbiguityError);
  assert.equal(Buffer.concat(out).toString(), '<select><b>x</b>');
  assert.throws(() => r.write(Buffer.from('x')), RewriterPoisonedError);
  assert.equal(rewriteString('<select><script>x</script><textarea>', () => {}), '<select><script>x</script><textarea>');
});

test('§6.6 end of input: unfinished tags pass raw, unfinished comments are comments', () => {
  const seen: string[] = [];
  assert.equal(rewriteString('a<div class="x', (r) => r.on('div', { element() { seen.push('div'); } })), 'a<div class="x');
  assert.equal(rewriteString('<!-- abc', (r) => r.onDocument({ comments(c) { seen.push(c.text); c.text = 'z'; } })), '<!--z-->');
  assert.equal(rewriteString('x<', () => {}), 'x<');
  assert.deepEqual(seen, [' abc']);
});

test('§7 latency: each write emits all but the unfinished lexeme; output is the same for every chunking', () => {
  const out: string[] = [];
  const r = new HTMLRewriter((c) => out.push(Buffer.from(c).toString()));
  r.on('p', { element(el) { el.setAttribute('x', '1'); } });
  r.write(Buffer.from('<b>text</b><p cla'));
  assert.equal(out.join(''), '<b>text</b>');
  r.write(Buffer.from('ss=a>more'));
  assert.equal(out.join(''), '<b>text</b><p class=a x="1">more');
  r.end();
});

test('§8.1 memory limit: a huge unfinished tag raises MemoryLimitExceededError', () => {
  const r = new HTMLRewriter(() => {}, { maxAllowedMemoryUsage: 100, preallocatedParsingBufferSize: 0 });
  r.write(Buffer.from('<img alt="' + 'l'.repeat(50)));
  assert.throws(() => r.write(Buffer.from('l'.repeat(60))), MemoryLimitExceededError);
  const deep = new HTMLRewriter(() => {}, { maxAllowedMemoryUsage: 10_000 }).on('x', {});
  assert.throws(() => deep.write(Buffer.from('<p>'.repeat(1000))), MemoryLimitExceededError);
});

test('§8.2 handler errors poison the rewriter; units expire after their handler', async () => {
  let kept: Element | null = null;
  const r = new HTMLRewriter(() => {});
  r.on('p', { element(el) { kept = el; } });
  r.write(Buffer.from('<p>'));
  assert.throws(() => (kept as unknown as Element).before('x'), ExpiredTokenError);
  const bad = new HTMLRewriter(() => {}).on('p', { element() { throw new Error('boom'); } });
  assert.throws(() => bad.write(Buffer.from('<p>')), /boom/);
  assert.throws(() => bad.end(), RewriterPoisonedError);
  const rejecting = new HTMLRewriter(() => {}).on('p', { async element() { throw new Error('later'); } });
  await assert.rejects(async () => rejecting.write(Buffer.from('<p>')), /later/);
});

test('§2.1 async handlers pause the stream; write returns a Promise only then', async () => {
  const r = new HTMLRewriter(() => {});
  assert.equal(r.write(Buffer.from('<i>')), undefined);
  const out = await rewriteAsync(randomChunks(Buffer.from('<p>a</p><p>b</p>'), seededRandom(1), 3), (rw) => rw.on('p', {
    async element(el) { await new Promise((res) => setTimeout(res, 1)); el.setInnerContent('X'); },
    async text(t) { await Promise.resolve(); if (t.text) t.replace(t.text.toUpperCase()); },
  }));
  assert.equal(out.toString(), '<p>X</p><p>X</p>');
  // An async end handler runs once, after the input, even when end() itself has nothing to wait for.
  let ends = 0;
  const appended = await rewriteAsync([], (rw) => rw.onDocument({ async end(e) { ends++; await Promise.resolve(); e.append('<!--end-->', { html: true }); } }));
  assert.equal(appended.toString(), '<!--end-->');
  assert.equal(ends, 1);
});

test('§9 encodings: legacy bytes pass through; handlers get decoded strings; inserted text is encoded or &#N;', () => {
  const src = Buffer.from([0x3c, 0x70, 0x20, 0x74, 0x3d, 0xcf, 0xf0, 0x3e, 0xcf, 0xf0, 0xe8, 0x3c, 0x2f, 0x70, 0x3e]); // <p t=Пр>При</p> in windows-1251
  const seen: string[] = [];
  const out = rewrite([src.subarray(0, 9), src.subarray(9)], (r) => r.on('p', {
    element(el) { seen.push(el.getAttribute('t') as string); el.setAttribute('u', 'Д€😀'); },
    text(t) { seen[1] = (seen[1] ?? '') + t.text; },
  }), { encoding: 'windows-1251' });
  assert.deepEqual(seen, ['Пр', 'При']);
  assert.deepEqual([...out], [...Buffer.from('<p t=\xcf\xf0 u="\xc4\x88&#128512;">\xcf\xf0\xe8</p>', 'latin1')]);
  assert.throws(() => new HTMLRewriter(() => {}, { encoding: 'utf-16le' }).write(Buffer.from('x')), TypeError);
  // GB18030 represents every code point: two-byte, four-byte BMP (¥) and supplementary (😀) forms, no &#N;.
  const inserted = '中¥€😀\u0080';
  const gb = rewrite([Buffer.from('<p></p>')], (r) => r.on('p', { element(el) { el.append(inserted); } }), { encoding: 'gb18030' });
  assert.equal(new TextDecoder('gb18030').decode(gb), `<p>${inserted}</p>`);
  assert.ok(!gb.includes('&#'));
  // Invalid UTF-8 passes through untouched without text handlers, and becomes U+FFFD with one.
  const invalid = Buffer.from([0x3c, 0x70, 0x3e, 0xff, 0xe2, 0x82, 0x3c, 0x2f, 0x70, 0x3e]);
  assert.deepEqual(rewrite([invalid], () => {}), invalid);
  assert.equal(rewrite([invalid], (r) => r.onDocument({ text() {} })).toString(), '<p>\uFFFD\uFFFD</p>');
  // U+FEFF in text is text (no BOM stripping, as the oracle): valid UTF-8 and not.
  const bom = Buffer.concat([Buffer.from('\uFEFF\u00e9<p>\uFEFFx\u00e9'), Buffer.from([0xff]), Buffer.from('</p>')]);
  const decoded: string[] = [];
  const bomOut = rewrite([bom.subarray(0, 2), bom.subarray(2)], (r) => r.onDocument({ text(t) { decoded.push(t.text); } }));
  assert.deepEqual(decoded.filter((t) => t !== ''), ['\uFEFF\u00e9', '\uFEFFx\u00e9\uFFFD']);
  assert.equal(bomOut.toString(), '\uFEFF\u00e9<p>\uFEFFx\u00e9\uFFFD</p>');
  // <meta charset> switches the encoding of what follows.
  const meta = Buffer.concat([Buffer.from('<meta charset="windows-1251"><p>'), Buffer.from([0xe0])]);
  const texts: string[] = [];
  rewrite([meta], (r) => r.onDocument({ text(t) { texts.push(t.text); } }), { adjustCharsetOnMetaTag: true });
  assert.equal(texts.join(''), 'а');
});

test('§11 ESI tags are void with enableEsiTags', () => {
  const out = rewriteString('<esi:include src="a"/><p>x</p>', (r) => r.on('esi\\:include', { element(el) { el.replace('[esi]'); } }), { enableEsiTags: true });
  assert.equal(out, '[esi]<p>x</p>');
});

test('round trip: no handlers, output == input byte for byte for any chunking (corpus pages and regression inputs)', () => {
  const rand = seededRandom(7);
  const files = [
    ...readdirSync(new URL('lol-html/bench-pages/', SHARED)).map((f) => new URL(`lol-html/bench-pages/${f}`, SHARED)),
    ...readdirSync(new URL('lol-html/regression/', SHARED)).map((f) => new URL(`lol-html/regression/${f}`, SHARED)),
    ...readdirSync(new URL('lol-html/selector_matching/', SHARED)).filter((f) => f.endsWith('.src.html')).map((f) => new URL(`lol-html/selector_matching/${f}`, SHARED)),
  ];
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const max of [1, 7, 300, 16384]) {
      if (max === 1 && bytes.length > 20000) continue;
      assert.ok(rewrite(randomChunks(bytes, rand, max), () => {}, { strict: false }).equals(bytes), `${f.pathname} chunks≤${max}`);
      assert.ok(rewrite(randomChunks(bytes, rand, max), (r) => r.on('div > p', {}), { strict: false }).equals(bytes), `${f.pathname} with selector`);
    }
  }
});

test('Workers API: transform() rewrites lazily, drops Content-Length, keeps status and headers', async () => {
  const source = new Response('<p>hello</p>', { status: 201, headers: { 'content-type': 'text/html; charset=utf-8', 'content-length': '12', 'x-a': 'b' } });
  const res = new HTMLRewriter().on('p', { element(el) { el.append('!'); } }).onDocument({ end(e) { e.append('<!--e-->', { html: true }); } }).transform(source);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-length'), null);
  assert.equal(res.headers.get('x-a'), 'b');
  assert.equal(await res.text(), '<p>hello!</p><!--e-->');
});

test('Node Transform: honours backpressure and async handlers', async () => {
  const chunks = Array.from({ length: 200 }, (_v, i) => Buffer.from(`<p>${'x'.repeat(1000)}${i}</p>`));
  const rewriter = new HTMLRewriter().on('p', { async element(el) { await Promise.resolve(); el.setAttribute('n', '1'); } });
  const transform = new HTMLRewriterTransform(rewriter);
  let received = 0;
  let maxBuffered = 0;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb): void {
      received += chunk.length;
      maxBuffered = Math.max(maxBuffered, transform.readableLength);
      setTimeout(cb, 0);
    },
  });
  await pipeline(Readable.from(chunks), transform, slow);
  assert.equal(received, chunks.reduce((n, c) => n + c.length, 0) + 200 * ' n="1"'.length);
  // The readable side stays near its high-water mark (a few chunks over at most), not the whole body.
  assert.ok(maxBuffered <= transform.readableHighWaterMark + 16 * 1024, `readable side buffered ${maxBuffered} bytes`);
});
