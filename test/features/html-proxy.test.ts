// The HTML features through a running frontline, configured in its file: which requests get
// which feature (per route, by expression), compressed and chunked origin pages, HEAD and 304,
// the engine failing before and after its output began (its memory limit), a slow reader of a
// large page, the protection page, and the configuration's errors.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { decodeAddress } from '../../src/features/email-obfuscation/addresses.ts';
import { validateConfig } from '../../src/config/load.ts';
import { startFrontline, startOrigin, waitFor, type Frontline, type Origin } from '../helpers/servers.ts';
import { ENCODERS, fetchDecoded, writeInPieces } from './html-helpers.ts';

const PAGE = `<!DOCTYPE html><html><head><title>Contact</title></head>
<body><p>Mail <a href="mailto:team@example.com">team@example.com</a> or visit <a href="http://example.com/shop">the shop</a>.</p>
<script>var support = "help@example.com";</script>
</body></html>
`;

/** The page with hidden addresses decoded back, and the decoder script left out. */
const unhidden = (html: string): string =>
  html
    .replace(/<span data-fl-email="([0-9a-f]+)">\[email hidden\]<\/span>/g, (_, hex: string) => decodeAddress(hex))
    .replace(/\/\.frontline\/email-protection#([0-9a-f]+)/g, (_, hex: string) => decodeAddress(hex))
    .replace(/<script data-frontline="email-decode">.*?<\/script>/, '');

/** "Пишите нам:" in windows-1251. */
const LEGACY_TEXT = Buffer.from([0xcf, 0xe8, 0xf8, 0xe8, 0xf2, 0xe5, 0x20, 0xed, 0xe0, 0xec, 0x3a]);

const HUGE_START = `<div data-blob="${'x'.repeat(120_000)}">${PAGE}</div>`;

const ALL_FEATURES = PAGE.replace('http://example.com/shop', 'https://example.com/shop').replace('</head>', '<meta name="injected"></head>');

describe('HTML features in a running frontline', () => {
  let origin: Origin;
  let fl: Frontline;
  let bigWritten = 0;

  before(async () => {
    origin = await startOrigin(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://origin');
      const coding = url.searchParams.get('coding') ?? '';
      const page = Buffer.from(PAGE);
      if (url.pathname.endsWith('/data.json')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ mail: 'team@example.com', url: 'http://example.com/' }));
        return;
      }
      if (url.pathname.endsWith('/legacy')) {
        // windows-1251 text around an address; the charset is in Content-Type or only in a <meta>.
        const meta = url.searchParams.has('meta');
        res.writeHead(200, { 'content-type': meta ? 'text/html' : 'text/html; charset=windows-1251' });
        res.end(Buffer.concat([Buffer.from(`<html><head>${meta ? '<meta charset="windows-1251">' : ''}</head><body><p>`), LEGACY_TEXT, Buffer.from(' team@example.com</p></body></html>')]));
        return;
      }
      if (url.pathname.endsWith('/not-modified')) {
        res.writeHead(304, { etag: '"p1"' });
        res.end();
        return;
      }
      if (url.pathname.endsWith('/huge-start')) {
        // The first tag alone, arriving in pieces, is larger than html.max_memory: the engine gives up before writing anything.
        res.writeHead(200, { 'content-type': 'text/html' });
        const body = Buffer.from(HUGE_START);
        await writeInPieces(res, body, [20_000, 40_000, 60_000, 80_000, 100_000]);
        return;
      }
      if (url.pathname.endsWith('/huge-later')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        const body = Buffer.from(`${PAGE}<div data-blob="${'x'.repeat(120_000)}">end</div>`);
        await writeInPieces(res, body, [PAGE.length, PAGE.length + 20_000, PAGE.length + 40_000, PAGE.length + 60_000, PAGE.length + 80_000]);
        return;
      }
      if (url.pathname.endsWith('/big')) {
        bigWritten = 0;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        let n = 0;
        const pump = () => {
          while (n < 2000) {
            const piece = Buffer.from(`<p>Row ${n++}: write to row${n}@example.com or see <a href="http://example.com/${n}">it</a>.</p>\n`.repeat(100));
            bigWritten += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end('</body></html>');
        };
        pump();
        return;
      }
      const body = coding === '' ? page : ENCODERS[coding](page);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', etag: '"p1"', ...(coding ? { 'content-encoding': coding } : {}) });
      if (req.method === 'HEAD') return void res.end();
      if (url.searchParams.has('pieces')) {
        // Cut inside a tag, inside an attribute, inside an address, between "<" and "/".
        const cuts = [page.indexOf('<a hr') + 3, page.indexOf('mailto:') + 4, page.indexOf('team@example.com<') + 6, page.indexOf('m</a>') + 2, page.indexOf('</script>') + 1];
        await writeInPieces(res, body, coding === '' ? cuts : cuts.map((c) => Math.floor((c * body.length) / page.length)));
      } else res.end(body);
    });
    fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [
        { path: '/', upstream: 'app' },
        { path: '/https/', upstream: 'app', plugins: { https_rewrites: true } },
        { path: '/plain/', upstream: 'app', plugins: { email_obfuscation: false, html_injection: false } },
      ],
      firewall: { lists: { staff: { type: 'ip', items: ['192.0.2.0/24'] } } },
      html: {
        max_memory: '64KiB',
        email_obfuscation: { enabled: true, expression: 'not starts_with(http.request.uri.path, "/public/") and not ip.src in $staff' },
        https_rewrites: { hosts: ['example.com'], expression: 'not http.request.headers["x-no-https"][0] eq "1"' },
        html_injection: { enabled: true, snippets: [{ position: 'head_end', html: '<meta name="injected">' }] },
      },
    });
  });
  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  it('applies each feature where its route setting and expression say', async () => {
    const all = await fetchDecoded(fl.port, '/https/page');
    assert.equal(unhidden(all.body.toString()), ALL_FEATURES);
    assert.ok(!all.body.toString().includes('team@example.com'));
    assert.ok(all.body.toString().includes('var support = "help@example.com";'), 'never inside a script');
    const noHttps = await fetchDecoded(fl.port, '/page');
    assert.equal(unhidden(noHttps.body.toString()), ALL_FEATURES.replace('https://example.com/shop', 'http://example.com/shop'), 'https_rewrites only on /https/');
    const byHeader = await fetchDecoded(fl.port, '/https/page', { 'x-no-https': '1' });
    assert.ok(byHeader.body.toString().includes('http://example.com/shop'), 'its expression turns https_rewrites off');
    const publicPath = await fetchDecoded(fl.port, '/public/page');
    assert.ok(publicPath.body.toString().includes('>team@example.com</a>'), 'its expression turns email obfuscation off');
    assert.ok(publicPath.body.toString().includes('<meta name="injected">'));
    const plain = await fetchDecoded(fl.port, '/plain/page');
    assert.equal(plain.body.toString(), PAGE, 'a route that switches the features off');
    assert.equal(plain.headers.etag, '"p1"');
  });

  it('rewrites pages in a legacy charset, named in Content-Type or in a <meta>, without touching their text', async () => {
    for (const path of ['/legacy', '/legacy?meta']) {
      const page = await fetchDecoded(fl.port, path);
      assert.ok(page.body.includes(LEGACY_TEXT), `${path}: the windows-1251 bytes pass through`);
      assert.ok(!page.body.toString('latin1').includes('team@example.com'), `${path}: the address is hidden`);
      assert.ok(page.body.toString('latin1').includes('data-fl-email'), path);
    }
  });

  it('leaves responses that are not HTML alone', async () => {
    const json = await fetchDecoded(fl.port, '/https/data.json');
    assert.deepEqual(JSON.parse(json.body.toString()), { mail: 'team@example.com', url: 'http://example.com/' });
    assert.equal(json.headers.vary, undefined);
  });

  for (const originCoding of ['', 'gzip', 'deflate', 'br', 'zstd']) {
    it(`rewrites an origin page in ${originCoding || 'identity'} that arrives in pieces cut at awkward places`, async () => {
      for (const accept of ['', 'gzip', 'deflate', 'br', 'zstd']) {
        const res = await fetchDecoded(fl.port, `/https/page?pieces&coding=${originCoding}`, accept ? { 'accept-encoding': accept } : {});
        assert.equal(res.headers['content-encoding'], accept || undefined);
        assert.equal(unhidden(res.body.toString()), ALL_FEATURES, `origin ${originCoding}, client ${accept}`);
        assert.equal(res.headers.etag, 'W/"p1"');
        assert.equal(res.headers.vary, 'Accept-Encoding');
      }
    });
  }

  it('answers HEAD with the head a GET gets, and weakens the ETag of a 304', async () => {
    const head = await fetchDecoded(fl.port, '/https/page?coding=gzip', { 'accept-encoding': 'br' }, 'HEAD');
    assert.equal(head.raw.length, 0);
    assert.equal(head.headers['content-encoding'], 'br');
    assert.equal(head.headers.etag, 'W/"p1"');
    const notModified = await fetchDecoded(fl.port, '/https/not-modified', { 'if-none-match': 'W/"p1"' });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, 'W/"p1"');
  });

  it('sends the original page when the engine fails before writing anything', async () => {
    const res = await fetchDecoded(fl.port, '/https/huge-start', { 'accept-encoding': 'gzip' });
    assert.equal(res.body.toString(), HUGE_START);
    await waitFor(() => fl.logs.some((l) => String(l.msg).includes('rewriting failed before any output') && String(l.msg).includes('memory limit')));
  });

  it('aborts the response when the engine fails after its output began', async () => {
    await assert.rejects(fetchDecoded(fl.port, '/https/huge-later'), /cut off|aborted|ECONNRESET|socket hang up/);
    await waitFor(() => fl.logs.some((l) => String(l.msg).includes('HTML rewriting failed after output began')));
  });

  it('answers the page protected links lead to without JavaScript', async () => {
    const res = await fetchDecoded(fl.port, '/.frontline/email-protection');
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), /Email address protected/);
  });

  it('gives a slow reader every byte of a large page, holding the origin back', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: fl.port, path: '/https/big', agent: false }, resolve);
      req.on('error', reject);
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 800));
    const writtenWhileStalled = bigWritten;
    const parts: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
    let sips = 0;
    res.on('data', (c: Buffer) => {
      parts.push(c);
      if (++sips % 8 === 0) {
        res.pause();
        setTimeout(() => res.resume(), 1);
      }
    });
    res.resume();
    await done;
    const page = Buffer.concat(parts).toString();
    const total = bigWritten;
    // Socket buffers take some; an unbounded frontline would have taken it all.
    assert.ok(writtenWhileStalled < total * 0.75, `origin wrote ${writtenWhileStalled} of ${total} bytes while the client read nothing`);
    // Every row came through, each address hidden and each link upgraded.
    assert.equal((page.match(/data-fl-email=/g) ?? []).length, 200_000);
    assert.equal((page.match(/href="https:\/\/example\.com\//g) ?? []).length, 200_000);
    // No <head> or <body> start tag: the decoder and the head snippet go at the end.
    assert.match(page, /<\/body><\/html><script data-frontline="email-decode">.*<\/script><meta name="injected">$/);
    process.stderr.write(`# slow reader, all features: ${(total / 1048576).toFixed(1)} MiB page; origin wrote ${(writtenWhileStalled / 1048576).toFixed(1)} MiB while the client stalled\n`);
  });
});

describe('the html: configuration', () => {
  const base = { listeners: [{ port: 0 }], upstreams: { app: { servers: [{ url: 'http://127.0.0.1:1' }] } } };
  const problems = (extra: Record<string, unknown>): string => {
    try {
      validateConfig({ ...base, routes: [{ upstream: 'app' }], ...extra }, 'test.yaml', '/');
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('reports bad expressions, hosts and missing settings with the key they are at', () => {
    assert.match(problems({ html: { email_obfuscation: { enabled: true, expression: 'http.host eq' } } }), /html\.email_obfuscation\.expression: .*column 13 of the expression/);
    assert.match(problems({ html: { email_obfuscation: { enabled: true, expression: 'ip.src in $office' } } }), /uses \$office, but firewall\.lists has no list of that name/);
    assert.match(problems({ html: { https_rewrites: { enabled: true } } }), /html\.https_rewrites\.hosts: https_rewrites is switched on but lists no hosts/);
    assert.match(problems({ html: { https_rewrites: { enabled: true, hosts: ['exa mple.com'] } } }), /html\.https_rewrites\.hosts\[0\]: "exa mple\.com" is not a host name/);
    assert.match(problems({ html: { html_injection: { enabled: true } } }), /html\.html_injection\.snippets: html_injection is switched on but has no snippets/);
    assert.match(problems({ html: { html_injection: { snippets: [{ position: 'head', html: 'x' }] } } }), /position: invalid value: expected one of "head_end", "body_end"/);
    assert.match(problems({ html: { max_memory: 'lots' } }), /html\.max_memory/);
    assert.match(problems({ html: { max_memory: '8KiB' } }), /html\.max_memory: 8192 bytes is too little/);
    assert.match(
      validateConfigProblems({ routes: [{ upstream: 'app', plugins: { https_rewrites: true } }] }),
      /https_rewrites is switched on but lists no hosts/,
      'a route that switches a feature on needs its settings too',
    );
    assert.match(
      validateConfigProblems({ routes: [{ upstream: 'app', plugins: { email_obfuscation: { enabled: true } } }] }),
      /the built-in email_obfuscation is switched on or off per route \(true or false\); its settings are in the top-level "html\.email_obfuscation" section/,
    );
    assert.equal(problems({ html: { email_obfuscation: { enabled: true, expression: 'ip.src in $staff' } }, firewall: { lists: { staff: { type: 'ip', items: ['10.0.0.0/8'] } } } }), '');
  });

  const validateConfigProblems = (extra: Record<string, unknown>): string => {
    try {
      validateConfig({ ...base, ...extra }, 'test.yaml', '/');
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
});
