// Path normalisation: examples from RFC 3986 §5.2.4 and nginx's merge_slashes, and properties
// over generated paths.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizePath, rawPrefixEnd, segmentCount } from '../../src/proxy/normalize-path.ts';

describe('normalizePath', () => {
  it('returns a path that is normal already as the same string', () => {
    for (const p of ['/', '/admin', '/a/b/', '/.well-known/x', '/a..b/c.', '/..a', '/a/.b', '*', 'http://h/x', '']) {
      assert.equal(normalizePath(p), p, p);
    }
  });

  it('makes the spellings of /admin one', () => {
    for (const p of ['//admin', '/./admin', '/a/../admin', '/%61dmin', '/%61%64%6D%69%6e', '/x/y/../../admin', '/../admin', '///admin', '/admin/.', '/admin/x/..']) {
      assert.match(normalizePath(p), /^\/admin\/?$/, p);
    }
    assert.equal(normalizePath('/admin/.'), '/admin/');
    assert.equal(normalizePath('/admin//'), '/admin/');
  });

  it('removes dot segments as RFC 3986 §5.2.4 does, also when they are encoded', () => {
    assert.equal(normalizePath('/a/b/c/./../../g'), '/a/g');
    assert.equal(normalizePath('/mid/content=5/../6'), '/mid/6');
    assert.equal(normalizePath('/a/%2e%2E/b'), '/b');
    assert.equal(normalizePath('/a/.%2e'), '/');
    assert.equal(normalizePath('/..'), '/');
    assert.equal(normalizePath('/a/..'), '/');
    assert.equal(normalizePath('/a/b/..'), '/a/');
  });

  it('decodes only unreserved characters and writes other escapes in upper case', () => {
    assert.equal(normalizePath('/%7Euser/%41-%5f.'), '/~user/A-_.');
    assert.equal(normalizePath('/a%2fb/%2F'), '/a%2Fb/%2F');
    assert.equal(normalizePath('/a%3Fb%23c%25d%20e%00'), '/a%3Fb%23c%25d%20e%00');
    assert.equal(normalizePath('/%c3%a9'), '/%C3%A9');
    assert.equal(normalizePath('/100%'), '/100%25');
    assert.equal(normalizePath('/%zz/%4'), '/%25zz/%254');
  });

  it('merges repeated slashes', () => {
    assert.equal(normalizePath('/a//b///c'), '/a/b/c');
    assert.equal(normalizePath('//'), '/');
  });
});

describe('rawPrefixEnd and segmentCount', () => {
  it('finds where a matched prefix ends in the target as received', () => {
    const rest = (target: string, prefix: string) => target.slice(rawPrefixEnd(target, segmentCount(prefix)));
    assert.equal(rest('//api/x//y?q=/a', '/api'), '/x//y?q=/a');
    assert.equal(rest('/%61pi?q', '/api'), '?q');
    assert.equal(rest('/x/../api/./y', '/api'), '/./y');
    assert.equal(rest('/api/x/../../api/y', '/api'), '/y');
    assert.equal(rest('/v1/./api/%2Fz', '/v1/api'), '/%2Fz');
    assert.equal(rest('/api', '/api/'), '');
  });

  it('counts segments', () => {
    assert.deepEqual(['/', '/a', '/a/', '/a/b', '/a/b/'].map(segmentCount), [0, 1, 1, 2, 2]);
  });
});

/** Path-ish strings: slashes, dots, escapes (valid, invalid, of every byte) and plain characters. */
const pathArb = fc
  .array(
    fc.oneof(
      fc.constantFrom('/', '//', '.', '..', '/./', '/../', '%', '%2', '%2e', '%2E', '%2f', '%25', '?', '#', ';', '=', 'a', 'Z', '~', '-', '_', 'é'),
      fc.integer({ min: 0, max: 255 }).map((b) => '%' + b.toString(16).padStart(2, '0')),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 20 },
  )
  .map((parts) => '/' + parts.join(''));

const RESERVED = [':', '/', '?', '#', '[', ']', '@', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', '%'];

describe('normalizePath properties', () => {
  it('is idempotent', () => {
    fc.assert(fc.property(pathArb, (p) => normalizePath(normalizePath(p)) === normalizePath(p)), { numRuns: 5000 });
  });

  it('never produces "//" or a "." or ".." segment', () => {
    fc.assert(
      fc.property(pathArb, (p) => {
        const n = normalizePath(p);
        return n.startsWith('/') && !n.includes('//') && !n.split('/').some((s) => s === '.' || s === '..');
      }),
      { numRuns: 5000 },
    );
  });

  it('never decodes a reserved character', () => {
    fc.assert(
      fc.property(pathArb, (p) => {
        const n = normalizePath(p);
        // Nothing reserved appears that was not there as a character already.
        return RESERVED.every((r) => n.split(r).length <= p.split(r).length);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...RESERVED), fc.boolean(), (r, lower) => {
        const hex = r.charCodeAt(0).toString(16).padStart(2, '0');
        return normalizePath(`/a%${lower ? hex.toLowerCase() : hex.toUpperCase()}b`) === `/a%${hex.toUpperCase()}b`;
      }),
    );
  });

  it('keeps the rest of a matched target in its original bytes', () => {
    fc.assert(
      fc.property(pathArb, (target) => {
        const p = target.split('?')[0];
        const n = normalizePath(p);
        const segments = segmentCount(n);
        for (let k = 0; k <= segments; k++) {
          const rest = p.slice(rawPrefixEnd(p, k));
          const prefix = k === 0 ? '' : '/' + n.split('/').slice(1, k + 1).join('/');
          // The prefix and the normalised rest make the whole again.
          const again = prefix + (rest === '' ? '' : normalizePath(rest.startsWith('/') ? rest : '/' + rest));
          if (normalizePath(again === '' ? '/' : again) !== n) return false;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
