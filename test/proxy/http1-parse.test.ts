// The HTTP/1.x parser in isolation: request heads and chunked bodies, whatever way the bytes are
// split across reads (properties over generated inputs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ChunkedDecoder, HeadParser, hasBareLf } from '../../src/proxy/http1/parse.ts';

/** Decodes `encoded` fed in the given pieces; gives the body, or the failure's status. */
function decode(encoded: Buffer, cuts: number[]): { body: string; rest: number } | { status: number } {
  const decoder = new ChunkedDecoder(8192);
  const parts: Buffer[] = [];
  const sink = { bodyData: (c: Buffer) => parts.push(Buffer.from(c)) };
  const points = [...new Set(cuts.map((c) => c % (encoded.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, encoded.length]) {
    if (to <= from) continue;
    const piece = encoded.subarray(from, to);
    const at = decoder.decode(piece, 0, sink);
    if (at < 0) return { status: decoder.failure!.status };
    if (decoder.done) return { body: Buffer.concat(parts).toString('latin1'), rest: encoded.length - (from + at) };
    from = to;
  }
  return { body: Buffer.concat(parts).toString('latin1'), rest: -1 };
}

describe('ChunkedDecoder', () => {
  it('decodes any valid chunked body the same way however it is split, and stops right after it', () => {
    const chunk = fc.record({
      data: fc.string({ minLength: 1, maxLength: 40 }),
      ext: fc.constantFrom('', ';a', ';a=b', ';a="x y"', ';a="q\\"x";b=1'),
      upper: fc.boolean(),
      zeros: fc.nat(3),
    });
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 6 }), fc.array(fc.nat(1000), { maxLength: 8 }), fc.boolean(), (chunks, cuts, trailer) => {
        let text = '';
        for (const c of chunks) {
          const size = Buffer.byteLength(c.data, 'latin1').toString(16);
          text += `${'0'.repeat(c.zeros)}${c.upper ? size.toUpperCase() : size}${c.ext}\r\n${c.data}\r\n`;
        }
        text += `0\r\n${trailer ? 'X-T: 1\r\n' : ''}\r\nNEXT`;
        const out = decode(Buffer.from(text, 'latin1'), cuts);
        assert.ok('body' in out);
        assert.equal(out.body, chunks.map((c) => c.data).join(''));
        assert.equal(out.rest, 4, 'the bytes after the body are left for the next request');
      }),
    );
  });

  it('refuses malformed bodies whatever the split', () => {
    const bad = ['5 \r\nhello\r\n0\r\n\r\n', '5\nhello\r\n0\r\n\r\n', '5\r\nhelloo\r\n0\r\n\r\n', 'fffffffffffffffff\r\n', '5;\r\nhello\r\n', '-1\r\n', '0\r\nX : y\r\n\r\n'];
    fc.assert(
      fc.property(fc.constantFrom(...bad), fc.array(fc.nat(100), { maxLength: 5 }), (body, cuts) => {
        const out = decode(Buffer.from(body, 'latin1'), cuts);
        assert.ok('status' in out && out.status === 400, `${JSON.stringify(body)} ${JSON.stringify(out)}`);
      }),
    );
  });

  it('bounds a chunk-size line (413) and the trailer section (431)', () => {
    assert.deepEqual(decode(Buffer.from(`5;${'a'.repeat(5000)}\r\n`), []), { status: 413 });
    assert.deepEqual(decode(Buffer.from(`0\r\nX: ${'a'.repeat(9000)}\r\n\r\n`), []), { status: 431 });
  });
});

describe('HeadParser', () => {
  const parse = (head: string) => {
    const p = new HeadParser();
    return p.parse(head) ? p : p.failure!;
  };

  it('reads the request line, headers and framing', () => {
    const p = parse('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nX-Multi: 1\r\nx-multi: 2\r\nCookie: a=1\r\ncookie: b=2\r\nSet-Cookie: s=1\r\nSet-Cookie: s=2\r\nUser-Agent: one\r\nUser-Agent: two');
    assert.ok(p instanceof HeadParser);
    assert.equal(p.method, 'POST');
    assert.equal(p.url, '/a?b=1');
    assert.equal(p.minor, 1);
    assert.equal(p.contentLength, 12);
    assert.equal(p.keepAlive, true);
    assert.equal(p.headers.host, 'x');
    assert.equal(p.headers['x-multi'], '1, 2');
    assert.equal(p.headers.cookie, 'a=1; b=2');
    assert.deepEqual(p.headers['set-cookie'], ['s=1', 's=2']);
    assert.equal(p.headers['user-agent'], 'one');
  });

  it('treats "constructor" and "__proto__" as ordinary header names', () => {
    const p = parse('GET / HTTP/1.1\r\nHost: x\r\nConstructor: c\r\n__proto__: p\r\ntoString: t');
    assert.ok(p instanceof HeadParser);
    assert.equal(p.headers.constructor, 'c');
    assert.equal(p.headers['__proto__'], 'p');
    assert.equal(p.headers.tostring, 't');
    assert.deepEqual(Object.keys(p.headers), ['host', 'constructor', '__proto__', 'tostring']);
  });

  it('knows keep-alive by version and Connection', () => {
    const keep = (head: string) => (parse(head) as HeadParser).keepAlive;
    assert.equal(keep('GET / HTTP/1.0'), false);
    assert.equal(keep('GET / HTTP/1.0\r\nConnection: Keep-Alive'), true);
    assert.equal(keep('GET / HTTP/1.1\r\nConnection: close'), false);
    assert.equal(keep('GET / HTTP/1.1\r\nConnection: x-foo, CLOSE'), false);
    assert.equal(keep('GET / HTTP/1.1\r\nConnection: x-foo'), true);
  });

  it('accepts every token character in a name and every visible or obs-text character in a value', () => {
    const p = parse(`GET / HTTP/1.1\r\nHost: x\r\n!#$%&'*+-.^_\`|~09azAZ: \t\x21\x7e\x80\xff v\t `);
    assert.ok(p instanceof HeadParser);
    assert.equal(p.headers["!#$%&'*+-.^_`|~09azaz"], '\t\x21\x7e\x80\xff v'.trimStart());
  });

  it('refuses every control character in a value and every non-token character in a name', () => {
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      const inValue = parse(`GET / HTTP/1.1\r\nHost: x\r\nX: a${ch}b`);
      const okValue = c === 9 || (c >= 32 && c !== 127);
      assert.equal(inValue instanceof HeadParser, okValue, `value with ${c}`);
      const inName = parse(`GET / HTTP/1.1\r\nHost: x\r\nX${ch}Y: v`);
      // "X:Y: v" is the field X with the value "Y: v".
      const okName = c === 58 || /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(ch);
      assert.equal(inName instanceof HeadParser, okName, `name with ${c}`);
    }
  });
});

describe('hasBareLf', () => {
  it('finds a LF without CR before it, across a read boundary', () => {
    assert.equal(hasBareLf(Buffer.from('a\r\nb'), 0, 4, -1), false);
    assert.equal(hasBareLf(Buffer.from('a\nb'), 0, 3, -1), true);
    assert.equal(hasBareLf(Buffer.from('\nb'), 0, 2, 13), false);
    assert.equal(hasBareLf(Buffer.from('\nb'), 0, 2, 97), true);
  });
});
