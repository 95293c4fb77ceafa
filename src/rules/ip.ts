// IP address text forms (SPEC.md 3.4.5, 11.8): parsing IPv4/IPv6 text and the canonical
// formatting used by `to_string` and the AST JSON.
import type { Ip, Ipv4, Ipv6 } from './values.ts';

/** Parses a dotted quad. `allowLeadingZeros` accepts `01` octets (decimal), as sets do. */
export function parseIpv4(text: string, allowLeadingZeros = false): Ipv4 | undefined {
  let value = 0;
  let octets = 0;
  let i = 0;
  while (true) {
    const start = i;
    let octet = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      octet = octet * 10 + (c - 0x30);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || octet > 255) return undefined;
    if (digits > 1 && text.charCodeAt(start) === 0x30 && !allowLeadingZeros) return undefined;
    value = value * 256 + octet;
    octets++;
    if (octets === 4) return i === text.length ? { family: 4, value } : undefined;
    if (text.charCodeAt(i) !== 0x2e) return undefined;
    i++;
  }
}

/** Parses RFC 4291 text: up to 8 hex groups, one `::`, an optional dotted-quad tail. */
export function parseIpv6(text: string): Ipv6 | undefined {
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return undefined;
  const head = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tail = doubleColon === -1 ? '' : text.slice(doubleColon + 2);
  const headGroups = parseGroups(head, doubleColon === -1);
  const tailGroups = doubleColon === -1 ? [] : parseGroups(tail, true);
  if (headGroups === undefined || tailGroups === undefined) return undefined;
  const total = headGroups.length + tailGroups.length;
  if (doubleColon === -1 ? total !== 8 : total > 7) return undefined;
  let value = 0n;
  for (const group of headGroups) value = (value << 16n) | BigInt(group);
  for (let k = total; k < 8; k++) value <<= 16n;
  for (const group of tailGroups) value = (value << 16n) | BigInt(group);
  return { family: 6, value };
}

/** Groups of a `:`-separated run; the last part may be a dotted quad (two groups) when allowed. */
function parseGroups(text: string, ipv4TailAllowed: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (p === parts.length - 1 && ipv4TailAllowed && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4.value >>> 16, v4.value & 0xffff);
      continue;
    }
    if (part.length === 0 || part.length > 4) return undefined;
    let group = 0;
    for (let i = 0; i < part.length; i++) {
      const digit = hexDigit(part.charCodeAt(i));
      if (digit < 0) return undefined;
      group = group * 16 + digit;
    }
    groups.push(group);
  }
  return groups;
}

export function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parses an IPv4 or IPv6 address (IPv4 strictly: no leading zeros). */
export function parseIp(text: string, allowLeadingZeros = false): Ip | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text, allowLeadingZeros);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (longest zero run of ≥ 2 groups as `::`, mapped IPv4 tail). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return formatIpv4(ip.value);
  const groups: number[] = [];
  for (let k = 7; k >= 0; k--) groups.push(Number((ip.value >> BigInt(k * 16)) & 0xffffn));
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(Number(ip.value & 0xffffffffn))}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Compares two addresses of the same family; undefined when the families differ (incomparable). */
export function compareIp(a: Ip, b: Ip): number | undefined {
  if (a.family !== b.family) return undefined;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** The first address of the prefix of `length` bits containing `ip` (host bits cleared). */
export function maskIp(ip: Ip, length: number): Ip {
  if (ip.family === 4) {
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { family: 4, value: (ip.value & mask) >>> 0 };
  }
  const mask = length === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - length)) - 1n);
  return { family: 6, value: ip.value & mask };
}

/** The last address of the prefix of `length` bits containing `ip`. */
export function lastOfPrefix(ip: Ip, length: number): Ip {
  if (ip.family === 4) {
    const hostBits = length === 0 ? 0xffffffff : (2 ** (32 - length) - 1);
    return { family: 4, value: (maskIp(ip, length).value as number) + hostBits };
  }
  const hostBits = (1n << BigInt(128 - length)) - 1n;
  return { family: 6, value: (maskIp(ip, length).value as bigint) | hostBits };
}
