// Content codings around a body rewrite: which codings frontline can undo, which one the client
// gets (its Accept-Encoding, by q-value), and the zlib streams that decode the origin's body and
// encode the rewritten one. Encoders run at fast streaming levels: they compress every rewritten
// byte on the way through, so their cost is per response byte.
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';

export type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

/** zstd needs a Node with zlib.createZstdCompress (v23.8, v22.15). */
const HAS_ZSTD = typeof zlib.createZstdDecompress === 'function' && typeof zlib.createZstdCompress === 'function';

/** Codings frontline can decode and encode here, in the order it prefers to send them. */
export const SUPPORTED_CODINGS: readonly Coding[] = HAS_ZSTD ? ['br', 'zstd', 'gzip', 'deflate'] : ['br', 'gzip', 'deflate'];

const GZIP_LEVEL = 5;
const BROTLI_QUALITY = 4;
const ZSTD_LEVEL = 3;

/**
 * The coding named by a Content-Encoding value: undefined for none (absent or "identity"),
 * null for one frontline cannot undo (unknown, or several codings stacked).
 */
export function responseCoding(value: string | string[] | undefined): Coding | undefined | null {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 1 ? responseCoding(value[0]) : null;
  const name = value.trim().toLowerCase();
  if (name === '' || name === 'identity') return undefined;
  if (name === 'x-gzip') return 'gzip';
  return (SUPPORTED_CODINGS as readonly string[]).includes(name) ? (name as Coding) : null;
}

interface Preference {
  coding: string;
  q: number;
}

/** Accept-Encoding entries: lower-case coding names with their q-values (1 when not given). */
function preferences(header: string): Preference[] {
  const out: Preference[] = [];
  for (const entry of header.split(',')) {
    const semi = entry.indexOf(';');
    const coding = (semi === -1 ? entry : entry.slice(0, semi)).trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    if (semi !== -1) {
      const m = /(?:^|;)\s*q\s*=\s*([0-9.]+)/i.exec(entry.slice(semi));
      if (m) q = Math.min(1, Number(m[1]) || 0);
    }
    out.push({ coding: coding === 'x-gzip' ? 'gzip' : coding, q });
  }
  return out;
}

/**
 * The coding to send a rewritten body in, from the client's Accept-Encoding: the acceptable
 * supported coding with the highest q-value; on a tie the origin's own coding, then frontline's
 * order. undefined (identity) when the client sent none, accepts none, or ranks identity higher.
 */
export function negotiateCoding(acceptEncoding: string | string[] | undefined, originCoding: Coding | undefined): Coding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const prefs = preferences(Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding);
  const wildcard = prefs.find((p) => p.coding === '*')?.q;
  let best: Coding | undefined;
  let bestQ = 0;
  const consider = (coding: Coding) => {
    const q = prefs.find((p) => p.coding === coding)?.q ?? wildcard ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  };
  if (originCoding !== undefined) consider(originCoding);
  for (const coding of SUPPORTED_CODINGS) consider(coding);
  // Identity competes only when the client ranked it explicitly.
  const identity = prefs.find((p) => p.coding === 'identity')?.q;
  if (identity !== undefined && identity > bestQ) return undefined;
  return best;
}

/**
 * The Accept-Encoding to send upstream for a response that may be rewritten: the client's
 * entries for codings frontline can decode (and identity), so that the origin never picks one
 * it cannot undo (compress, shared-dictionary codings, zstd on an older Node). "identity" when
 * nothing is left.
 */
export function decodableAcceptEncoding(acceptEncoding: string | string[] | undefined): string | undefined {
  if (acceptEncoding === undefined) return undefined;
  const kept = preferences(Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding).filter(
    (p) => p.coding === 'identity' || (SUPPORTED_CODINGS as readonly string[]).includes(p.coding),
  );
  if (kept.length === 0) return 'identity';
  return kept.map((p) => (p.q === 1 ? p.coding : `${p.coding};q=${p.q}`)).join(', ');
}

/**
 * A decoder for `coding`, chosen with the body's first bytes: HTTP's "deflate" is the zlib
 * format (RFC 9110 §8.4.1.2), but some servers send raw deflate, which the zlib header check
 * tells apart.
 */
export function createDecoder(coding: Coding, first: Uint8Array): Transform {
  switch (coding) {
    case 'gzip':
      return zlib.createGunzip();
    case 'deflate':
      return hasZlibHeader(first) ? zlib.createInflate() : zlib.createInflateRaw();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      return zlib.createZstdDecompress();
  }
}

function hasZlibHeader(first: Uint8Array): boolean {
  if (first.length < 2) return true;
  return (first[0] & 0x0f) === 8 && ((first[0] << 8) | first[1]) % 31 === 0;
}

/** A compressing stream that can also be flushed without ending it. */
export type Encoder = zlib.Gzip | zlib.Deflate | zlib.BrotliCompress | zlib.ZstdCompress;

export function createEncoder(coding: Coding): Encoder {
  switch (coding) {
    case 'gzip':
      return zlib.createGzip({ level: GZIP_LEVEL });
    case 'deflate':
      return zlib.createDeflate({ level: GZIP_LEVEL });
    case 'br':
      return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } });
    case 'zstd':
      return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
  }
}

/** The flush that makes an encoder emit everything it was given without ending the stream. */
export function syncFlushKind(coding: Coding): number {
  switch (coding) {
    case 'gzip':
    case 'deflate':
      return zlib.constants.Z_SYNC_FLUSH;
    case 'br':
      return zlib.constants.BROTLI_OPERATION_FLUSH;
    case 'zstd':
      return zlib.constants.ZSTD_e_flush;
  }
}
