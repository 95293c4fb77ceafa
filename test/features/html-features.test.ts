// The three HTML features on the engine, in process: what each changes and what it must leave
// alone, that a page split into chunks anywhere comes out the same, and — for email obfuscation —
// that a visitor with JavaScript sees the original page (the injected decoder run on a parsed
// document in node:vm, compared with the original as parse5 parses it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAddress, decodeAttributeValue, findAddress } from '../../src/features/email-obfuscation/addresses.ts';
import { emailObfuscationFeature } from '../../src/features/email-obfuscation/plugin.ts';
import type { HtmlFeature } from '../../src/features/html-rewriting/feature-plugin.ts';
import { htmlInjectionFeature } from '../../src/features/html-injection/plugin.ts';
import { hostMatcher, httpsRewritesFeature, httpsSrcset, httpsUrl } from '../../src/features/https-rewrites/plugin.ts';
import { HTMLRewriter } from '../../src/html/index.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { render, renderWithScripts } from './html-dom-shim.ts';

const NO_CONTEXT = {} as RequestContext;

/** `html` through a rewriter with `features`, given in pieces cut at `cuts`. */
function rewrite(html: string, features: readonly HtmlFeature[], cuts: readonly number[] = []): string {
  const out: Uint8Array[] = [];
  const rewriter = new HTMLRewriter((c) => out.push(c));
  for (const f of features) f.register(rewriter, NO_CONTEXT);
  const bytes = Buffer.from(html);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at) continue;
    rewriter.write(bytes.subarray(at, cut));
    at = cut;
  }
  rewriter.end();
  return Buffer.concat(out).toString();
}

/** Output with every hidden address and protected link decoded back: the same for every key and split. */
const unhidden = (html: string): string =>
  html
    .replace(/<span data-fl-email="([0-9a-f]+)">\[email hidden\]<\/span>/g, (_, hex: string) => `{${decodeAddress(hex)}}`)
    .replace(/"\/\.frontline\/email-protection#([0-9a-f]+)"/g, (_, hex: string) => `{${decodeAddress(hex)}}`);

const PAGE = `<!DOCTYPE html>
<html><head><title>Contact a@b.com</title>
<style>/* s@t.com */ a[href^="mailto:"] { color: red }</style>
<script>var owner = "c@d.com"; if (a < b) {}</script></head>
<body class="x@y.com">
<p title="Mail x@y.com">Write to foo.bar+tag@example.co.uk, or to <b>sales@example.com</b>.</p>
<p>Our <a href="mailto:Team@Example.org?subject=Hello%20there&amp;body=Hi%20&#x26;%20bye">team@example.org</a> answers.</p>
<p>Not addresses: @handle, a@b, user@localhost, x@y.c, and 2 @ 3.</p>
<textarea name="t">t@u.com</textarea>
<select><option>o@p.com</option></select>
<svg><text>svg@q.com</text></svg><svg/>
<!-- comment c@c.com -->
<p>Last: end@example.net.</p>
</body></html>
`;

describe('email obfuscation', () => {
  const email = emailObfuscationFeature();

  it('hides addresses in text and mailto: links, and nowhere else', () => {
    const out = rewrite(PAGE, [email]);
    for (const kept of [
      '<title>Contact a@b.com</title>',
      '/* s@t.com */',
      'var owner = "c@d.com"',
      'class="x@y.com"',
      'title="Mail x@y.com"',
      '<textarea name="t">t@u.com</textarea>',
      '<option>o@p.com</option>',
      '<text>svg@q.com</text>',
      '<!-- comment c@c.com -->',
      'Not addresses: @handle, a@b, user@localhost, x@y.c, and 2 @ 3.',
    ]) {
      assert.ok(out.includes(kept), `kept: ${kept}`);
    }
    for (const hidden of ['foo.bar+tag@example.co.uk', 'sales@example.com', 'team@example.org', 'Team@Example.org', 'end@example.net']) {
      assert.ok(!out.includes(hidden), `hidden: ${hidden}`);
    }
    assert.equal(
      unhidden(out).match(/<p>.*<\/p>/g)?.join('\n'),
      [
        '<p>Our <a href={mailto:Team@Example.org?subject=Hello%20there&body=Hi%20&%20bye}>{team@example.org}</a> answers.</p>',
        '<p>Not addresses: @handle, a@b, user@localhost, x@y.c, and 2 @ 3.</p>',
        '<p>Last: {end@example.net}.</p>',
      ].join('\n'),
    );
    assert.equal(out.split('data-frontline="email-decode"').length - 1, 1, 'the decoder once per page');
    assert.ok(out.indexOf('data-frontline="email-decode"') < out.indexOf('</body>'), 'the decoder at the end of <body>');
  });

  it('shows a visitor with JavaScript the original page', () => {
    assert.equal(renderWithScripts(rewrite(PAGE, [email])), render(PAGE));
    const noBody = 'Mail <i>me@example.com</i> or <a href="mailto:you@example.com">you</a>';
    const out = rewrite(noBody, [email]);
    assert.ok(out.endsWith('</script>'), 'the decoder at the end of a document without </body>');
    assert.equal(renderWithScripts(out), render(noBody));
  });

  it('gives the same result however the page is split into chunks', () => {
    const expected = unhidden(rewrite(PAGE, [email]));
    for (let cut = 1; cut < Buffer.byteLength(PAGE); cut++) {
      assert.equal(unhidden(rewrite(PAGE, [email], [cut])), expected, `split at ${cut}`);
    }
    const everyByte = Array.from({ length: Buffer.byteLength(PAGE) }, (_, i) => i);
    assert.equal(unhidden(rewrite(PAGE, [email], everyByte)), expected, 'one byte at a time');
  });

  it('adds nothing to a page without addresses', () => {
    const page = '<html><body><p>No mail here, only a @mention.</p></body></html>';
    assert.equal(rewrite(page, [email]), page);
  });

  it('leaves a mailto: link alone when its href holds a character reference it cannot read', () => {
    const page = '<a href="mailto:a@example.com?body=&copy;">x</a>';
    assert.equal(rewrite(page, [email]), page);
    assert.equal(decodeAttributeValue('mailto:a@b.com?x=1&y=2&amp;z=&#51;'), 'mailto:a@b.com?x=1&y=2&z=3');
    assert.equal(decodeAttributeValue('mailto:a@b.com?&copy;'), undefined);
  });

  it('finds addresses linearly, without the punctuation around them', () => {
    const text = 'see (jo.ann@mail.example.com). and -x@y.io- or a..b@c.de';
    const found: string[] = [];
    for (let f = findAddress(text, 0); f !== undefined; f = findAddress(text, f.end)) found.push(text.slice(f.start, f.end));
    assert.deepEqual(found, ['jo.ann@mail.example.com', '-x@y.io', 'a..b@c.de']);
    const long = `${'a'.repeat(200_000)}@${'b'.repeat(200_000)}`;
    assert.equal(findAddress(long, 0), undefined);
  });
});

describe('automatic HTTPS rewrites', () => {
  const https = httpsRewritesFeature(['example.com', '*.cdn.example.net']);
  const known = hostMatcher(['example.com', '*.cdn.example.net']);

  it('upgrades http:// URLs of known hosts in src, href, action and every srcset candidate', () => {
    const page =
      '<img src="http://example.com/a.png" data-src="http://example.com/b.png" ' +
      'srcset="http://img.cdn.example.net/s.png 1x,HTTP://example.com/m.png 2x, http://other.org/l.png 3x">' +
      '<a href=" HTTP://Example.COM:80/page?q=1#f">x</a><form action="http://example.com/post"></form>' +
      '<script src="http://example.com:8080/x.js"></script><link href="http://cdn.example.net/x.css">' +
      '<a href="https://example.com/">already</a><a href="/relative">rel</a><p>http://example.com/ in text</p>';
    assert.equal(
      rewrite(page, [https]),
      '<img src="https://example.com/a.png" data-src="http://example.com/b.png" ' +
        'srcset="https://img.cdn.example.net/s.png 1x,https://example.com/m.png 2x, http://other.org/l.png 3x">' +
        '<a href=" https://Example.COM/page?q=1#f">x</a><form action="https://example.com/post"></form>' +
        '<script src="http://example.com:8080/x.js"></script><link href="http://cdn.example.net/x.css">' +
        '<a href="https://example.com/">already</a><a href="/relative">rel</a><p>http://example.com/ in text</p>',
    );
  });

  it('parses URLs and srcsets as browsers do', () => {
    assert.equal(httpsUrl('http://user:pw@example.com/x', known), 'https://user:pw@example.com/x');
    assert.equal(httpsUrl('http://example.com.', known), 'https://example.com.');
    assert.equal(httpsUrl('http://example.com\\x', known), 'https://example.com\\x');
    assert.equal(httpsUrl('http://evil.com/?http://example.com', known), undefined);
    assert.equal(httpsUrl('http://notexample.com/', known), undefined);
    assert.equal(httpsUrl('http://cdn.example.net/', known), undefined, 'a wildcard does not cover its own domain');
    assert.equal(httpsUrl('ftp://example.com/', known), undefined);
    assert.equal(httpsSrcset('http://example.com/a,b.png 1x, http://example.com/c.png', known), 'https://example.com/a,b.png 1x, https://example.com/c.png');
    // No space after the comma: one URL that holds a comma (HTML standard, srcset parsing).
    assert.equal(httpsSrcset('http://example.com/a.png,http://example.com/b.png', known), 'https://example.com/a.png,http://example.com/b.png');
    assert.equal(httpsSrcset('http://example.com/a.png, http://example.com/b.png', known), 'https://example.com/a.png, https://example.com/b.png');
    assert.equal(httpsSrcset('http://example.com/a.png (max-width: 1px, 2px) 1x, http://example.com/b.png 2x', known), 'https://example.com/a.png (max-width: 1px, 2px) 1x, https://example.com/b.png 2x');
    assert.equal(httpsSrcset('/a.png 1x', known), undefined);
  });
});

describe('HTML injection', () => {
  const inject = htmlInjectionFeature([
    { position: 'head_end', html: '<script src="/h.js"></script>' },
    { position: 'body_end', html: '<div id="b"></div>' },
    { position: 'head_end', html: '<meta name="x">' },
  ]);

  it('inserts before </head> and </body>, once per page', () => {
    assert.equal(
      rewrite('<html><head><title>t</title></head><body><p>x</p></body></html>', [inject]),
      '<html><head><title>t</title><script src="/h.js"></script><meta name="x"></head><body><p>x</p><div id="b"></div></body></html>',
    );
    assert.equal(
      rewrite('<html><head></head><body>a</body><body>b</body></html>', [inject]),
      '<html><head><script src="/h.js"></script><meta name="x"></head><body>a<div id="b"></div></body><body>b</body></html>',
    );
  });

  it('puts head snippets before <body> when </head> is missing, and both at the end when the tags are', () => {
    assert.equal(
      rewrite('<html><head><title>t</title><body><p>x</p></html>', [inject]),
      '<html><head><title>t</title><script src="/h.js"></script><meta name="x"><body><p>x</p><div id="b"></div></html>',
    );
    assert.equal(rewrite('<p>fragment', [inject]), '<p>fragment<script src="/h.js"></script><meta name="x"><div id="b"></div>');
  });

  it('is not fooled by the tag names in scripts, comments or other elements', () => {
    const page = '<head><script>"</head>"</script><!-- </body> --></head><body><textarea></body></textarea></body>';
    assert.equal(
      rewrite(page, [inject]),
      '<head><script>"</head>"</script><!-- </body> --><script src="/h.js"></script><meta name="x"></head><body><textarea></body></textarea><div id="b"></div></body>',
    );
  });

  it('works with the other features on the same page, whatever the chunks', () => {
    const all = [emailObfuscationFeature(), httpsRewritesFeature(['example.com']), inject];
    const page = '<html><head></head><body><a href="http://example.com/">me@example.com</a></body></html>';
    const expected = unhidden(rewrite(page, all));
    assert.ok(expected.includes('<a href="https://example.com/">{me@example.com}</a>'));
    assert.ok(expected.includes('<script src="/h.js"></script><meta name="x"></head>'));
    for (let cut = 1; cut < page.length; cut++) assert.equal(unhidden(rewrite(page, all, [cut, cut + 3])), expected, `cut at ${cut}`);
  });
});
