// Helpers for the HTML rewriting tests: origins that serve a body in a chosen content coding and
// in chosen pieces, a client that decodes what it gets, and a frontline worker's memory.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import zlib from 'node:zlib';

export const ENCODERS: Record<string, (body: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  zstd: (b) => zlib.zstdCompressSync(b),
};

const DECODERS: Record<string, (body: Buffer) => Buffer> = {
  gzip: (b) => zlib.gunzipSync(b),
  deflate: (b) => zlib.inflateSync(b),
  br: (b) => zlib.brotliDecompressSync(b),
  zstd: (b) => zlib.zstdDecompressSync(b),
};

/** The body as the client reads it: decoded by its Content-Encoding. */
export function decodeBody(body: Buffer, coding: string | undefined): Buffer {
  if (coding === undefined || coding === 'identity') return body;
  const decode = DECODERS[coding];
  if (decode === undefined) throw new Error(`unexpected Content-Encoding ${coding}`);
  return decode(body);
}

/** Writes `body` in pieces cut at `cuts` (byte offsets), each after a short pause, so each piece arrives on its own. */
export async function writeInPieces(res: http.ServerResponse, body: Buffer, cuts: readonly number[]): Promise<void> {
  let at = 0;
  for (const cut of [...cuts, body.length]) {
    if (cut <= at) continue;
    res.write(body.subarray(at, cut));
    at = cut;
    await new Promise((r) => setTimeout(r, 5));
  }
  res.end();
}

export interface Received {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** As received (still encoded). */
  raw: Buffer;
  /** Decoded by Content-Encoding. */
  body: Buffer;
}

/** GET (or another method) through frontline; the body decoded. Rejects when the response is cut off. */
export function fetchDecoded(port: number, path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) return reject(new Error('response cut off'));
        const raw = Buffer.concat(chunks);
        try {
          const body = method === 'HEAD' ? raw : decodeBody(raw, res.headers['content-encoding']);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The frontline worker's process id (the primary's only child when workers: 1). */
export function workerPid(primaryPid: number): number {
  const children = readFileSync(`/proc/${primaryPid}/task/${primaryPid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  if (children.length !== 1 || !children[0]) throw new Error(`expected one worker process, found ${children.join(', ')}`);
  return children[0];
}

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}
