// Consistent hashing (ketama-like): each peer owns 160 points per unit of weight on a 32-bit ring;
// a request goes to the owner of the first point at or after the hash of its key. Points depend
// only on the peer's origin, so adding or removing one server moves only the keys it owns (~1/N).
import { createHash } from 'node:crypto';
import type { Balancer, PickRequest } from './balance.ts';
import { RoundRobin } from './balance.ts';
import type { Peer } from './peer.ts';

/** Each MD5 digest yields four 32-bit points, as in ketama: 40 digests make 160 points. */
const DIGESTS_PER_WEIGHT = 40;

export class ConsistentHash implements Balancer {
  readonly #all: readonly Peer[];
  /** Every peer's points, sorted; owners hold `peer.index`. */
  readonly #ringHashes: Uint32Array;
  readonly #ringOwners: Uint32Array;
  /**
   * The ring restricted to available peers. Searching it gives the same answer as walking the
   * full ring past unavailable peers' points, without the walk on every pick.
   */
  #hashes = new Uint32Array(0);
  #owners = new Uint32Array(0);
  readonly #keyHash: (request: PickRequest) => number;
  /** For requests without a key (no such header or cookie): any peer will do, so spread them. */
  readonly #keyless = new RoundRobin();

  constructor(peers: readonly Peer[], hashKey: string) {
    this.#all = peers;
    this.#keyHash = keyHasher(hashKey);
    const hashes: number[] = [];
    const owners: number[] = [];
    for (const peer of peers) {
      for (let d = 0; d < peer.weight * DIGESTS_PER_WEIGHT; d++) {
        const digest = createHash('md5').update(`${peer.origin}-${d}`).digest();
        for (let k = 0; k < 4; k++) {
          hashes.push(digest.readUInt32LE(k * 4));
          owners.push(peer.index);
        }
      }
    }
    // Ties (vanishingly rare) go to the lower index so every worker builds the same ring.
    const order = hashes.map((_, i) => i).sort((a, b) => hashes[a] - hashes[b] || owners[a] - owners[b]);
    this.#ringHashes = Uint32Array.from(order, (i) => hashes[i]);
    this.#ringOwners = Uint32Array.from(order, (i) => owners[i]);
  }

  update(available: readonly Peer[]): void {
    this.#keyless.update(available);
    const keep = new Uint8Array(this.#all.length);
    for (const peer of available) keep[peer.index] = 1;
    let count = 0;
    for (const owner of this.#ringOwners) count += keep[owner];
    const hashes = new Uint32Array(count);
    const owners = new Uint32Array(count);
    for (let i = 0, j = 0; i < this.#ringOwners.length; i++) {
      if (keep[this.#ringOwners[i]] === 0) continue;
      hashes[j] = this.#ringHashes[i];
      owners[j++] = this.#ringOwners[i];
    }
    this.#hashes = hashes;
    this.#owners = owners;
  }

  pick(request: PickRequest, exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    const h = this.#keyHash(request);
    if (h < 0) return this.#keyless.pick(request, exclude);
    const hashes = this.#hashes;
    const n = hashes.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    // Walk clockwise past excluded peers (a retry goes to the key's next peer on the ring).
    let i = lo === n ? 0 : lo;
    for (let step = 0; step < n; step++) {
      const peer = this.#all[this.#owners[i]];
      if (exclude === undefined || !exclude.has(peer)) return peer;
      i = i + 1 === n ? 0 : i + 1;
    }
    return undefined;
  }
}

/** Turns a `hash_key` setting into a function giving the request's key hash, or -1 without a key. */
export function keyHasher(hashKey: string): (request: PickRequest) => number {
  if (hashKey === 'client_ip') return (r) => hashString(r.clientAddress);
  if (hashKey === 'path') return (r) => hashString(r.path);
  if (hashKey === 'uri') return (r) => hashString(r.url);
  if (hashKey === 'host') return (r) => hashString(r.host);
  if (hashKey.startsWith('header:')) {
    const name = hashKey.slice('header:'.length).toLowerCase();
    return (r) => {
      const value = r.headers[name];
      if (value === undefined) return -1;
      if (typeof value === 'string') return hashString(value);
      // Repeated header: hash the values as if joined with ", ", without building the string.
      let h = FNV_OFFSET;
      for (let i = 0; i < value.length; i++) {
        if (i > 0) h = fnv(h, ', ', 0, 2);
        h = fnv(h, value[i], 0, value[i].length);
      }
      return mix(h);
    };
  }
  if (hashKey.startsWith('cookie:')) {
    const name = hashKey.slice('cookie:'.length);
    return (r) => {
      const cookie = r.headers.cookie;
      return cookie === undefined ? -1 : cookieHash(cookie, name);
    };
  }
  throw new Error(`unknown hash key "${hashKey}"`);
}

/** Hash of cookie `name`'s value in a Cookie header, found in place (no split, no substrings). */
function cookieHash(cookie: string, name: string): number {
  const n = cookie.length;
  let pos = 0;
  while (pos < n) {
    while (pos < n && (cookie.charCodeAt(pos) === 0x20 || cookie.charCodeAt(pos) === 0x09)) pos++;
    let end = cookie.indexOf(';', pos);
    if (end === -1) end = n;
    const eq = pos + name.length;
    if (eq < end && cookie.charCodeAt(eq) === 0x3d && cookie.startsWith(name, pos)) {
      while (end > eq + 1 && cookie.charCodeAt(end - 1) === 0x20) end--;
      return mix(fnv(FNV_OFFSET, cookie, eq + 1, end));
    }
    pos = end + 1;
  }
  return -1;
}

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over UTF-16 code units: fast, allocation-free, fine for keys an attacker can choose anyway. */
function fnv(h: number, s: string, start: number, end: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** Murmur3's finalizer: FNV leaves similar keys close together; this spreads them over the ring. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  return mix(fnv(FNV_OFFSET, s, 0, s.length));
}
