// IP address text (parsing and the canonical form of SPEC.md 11.8) and prefix masks.
import type { Ip } from './values.ts';

export interface ParseIpOptions {
  /** Accept IPv4 octets such as `01` (inside sets, as upstream does; SPEC 3.4.5). */
  readonly allowLeadingZeros?: boolean;
}

/**
 * Parses an IPv4 dotted quad or an IPv6 address in RFC 4291 text form (`::` compression, an
 * embedded IPv4 tail); undefined when the whole text is not exactly one address.
 */
export function parseIp(text: string, options?: ParseIpOptions): Ip | undefined {
  const allowLeadingZeros = options?.allowLeadingZeros ?? false;
  if (text.includes(':')) {
    const value = parseIpv6(text, allowLeadingZeros);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(text, allowLeadingZeros);
  return value === undefined ? undefined : { family: 4, value };
}

function parseIpv4(text: string, allowLeadingZeros: boolean): number | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) return undefined;
  let value = 0;
  for (const octet of octets) {
    if (!/^[0-9]{1,3}$/.test(octet) || (octet.length > 1 && octet[0] === '0' && !allowLeadingZeros)) return undefined;
    const number = Number(octet);
    if (number > 255) return undefined;
    value = value * 256 + number;
  }
  return value;
}

function parseIpv6(text: string, allowLeadingZeros: boolean): bigint | undefined {
  const gap = text.indexOf('::');
  let groups: number[] | undefined;
  if (gap < 0) {
    groups = parseGroups(text, true, allowLeadingZeros);
    if (groups === undefined || groups.length !== 8) return undefined;
  } else {
    if (text.includes('::', gap + 1)) return undefined;
    const head = parseGroups(text.slice(0, gap), false, allowLeadingZeros);
    const tail = parseGroups(text.slice(gap + 2), true, allowLeadingZeros);
    // `::` stands for at least one zero group.
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/** The 16-bit groups of a colon-separated run (an embedded IPv4 tail counts as two); '' has none. */
function parseGroups(text: string, ipv4TailAllowed: boolean, allowLeadingZeros: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else if (ipv4TailAllowed && i === parts.length - 1 && part.includes('.')) {
      const ipv4 = parseIpv4(part, allowLeadingZeros);
      if (ipv4 === undefined) return undefined;
      groups.push(ipv4 >>> 16, ipv4 & 0xffff);
    } else {
      return undefined;
    }
  }
  return groups;
}

/**
 * The canonical text of an address (SPEC 11.8, RFC 5952 as Rust's `Ipv6Addr` prints it): IPv4
 * dotted decimal; IPv6 in lower-case hex without leading zeros, the first longest run of two or more
 * zero groups written `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIp(ip: Ip): string {
  return ip.family === 4 ? formatIpv4(ip.value) : formatIpv6(ip.value);
}

function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function formatIpv6(value: bigint): string {
  if (value >> 32n === 0xffffn) return `::ffff:${formatIpv4(Number(value & 0xffffffffn))}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let runStart = -1;
  let runLength = 1; // only runs of two or more groups are compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > runLength) {
      runStart = i;
      runLength = end - i;
    }
    i = end;
  }
  const hex = (group: number): string => group.toString(16);
  if (runStart < 0) return groups.map(hex).join(':');
  return `${groups.slice(0, runStart).map(hex).join(':')}::${groups.slice(runStart + runLength).map(hex).join(':')}`;
}

/** The network mask of an IPv4 prefix length (0..32) as an unsigned 32-bit integer. */
export function ipv4Mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** The network mask of an IPv6 prefix length (0..128). */
export function ipv6Mask(prefixLength: number): bigint {
  return ((1n << BigInt(prefixLength)) - 1n) << BigInt(128 - prefixLength);
}

/** The address with its host bits cleared, given the masks of both families (see ipv4Mask/ipv6Mask). */
export function maskIp(ip: Ip, ipv4NetworkMask: number, ipv6NetworkMask: bigint): Ip {
  if (ip.family === 4) {
    const value = (ip.value & ipv4NetworkMask) >>> 0;
    return value === ip.value ? ip : { family: 4, value };
  }
  const value = ip.value & ipv6NetworkMask;
  return value === ip.value ? ip : { family: 6, value };
}

/** Compares two addresses of the same family; undefined when the families differ (incomparable). */
export function compareIp(a: Ip, b: Ip): number | undefined {
  if (a.family !== b.family) return undefined;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** The first and last address of the prefix of `length` bits that contains `ip`. */
export function prefixRange(ip: Ip, length: number): [Ip, Ip] {
  if (ip.family === 4) {
    const first = (ip.value & ipv4Mask(length)) >>> 0;
    return [{ family: 4, value: first }, { family: 4, value: first + (2 ** (32 - length) - 1) }];
  }
  const first = ip.value & ipv6Mask(length);
  return [{ family: 6, value: first }, { family: 6, value: first | ((1n << BigInt(128 - length)) - 1n) }];
}

/** The value of a hex digit character code, or -1. */
export function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * A list item as text: an address, a CIDR with zero host bits (`10.0.0.0/8`) or a range of one
 * family (`10.0.0.1..10.0.0.9`); undefined when it is none of these.
 */
export function parseIpRange(text: string): [Ip, Ip] | undefined {
  const dots = text.indexOf('..');
  if (dots !== -1) {
    const start = parseIp(text.slice(0, dots));
    const end = parseIp(text.slice(dots + 2));
    const order = start && end ? compareIp(start, end) : undefined;
    return order === undefined || order > 0 ? undefined : [start!, end!];
  }
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const full = ip.family === 4 ? 32 : 128;
  const lengthText = slash === -1 ? String(full) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lengthText) || Number(lengthText) > full) return undefined;
  const range = prefixRange(ip, Number(lengthText));
  return compareIp(range[0], ip) === 0 ? range : undefined;
}
