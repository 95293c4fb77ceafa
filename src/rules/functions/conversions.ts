// to_string, cidr, cidr6, decode_base64 and uuidv4 (SPEC.md 11.8).
import type { FunctionImpl } from '../function.ts';
import { formatIp, ipv4Mask, ipv6Mask, maskIp } from '../ip.ts';
import type { Bytes, Int, Ip } from '../values.ts';
import { defineFunction, field, intInRange, literal, literalValue } from './signature.ts';

const intToString: FunctionImpl = (args) => (args[0] === undefined ? undefined : String(args[0] as Int));
const boolToString: FunctionImpl = (args) => (args[0] === undefined ? undefined : args[0] ? 'true' : 'false');
const ipToString: FunctionImpl = (args) => (args[0] === undefined ? undefined : formatIp(args[0] as Ip));

export const toStringFunction = defineFunction({
  name: 'to_string',
  arguments: [field('Int', 'Bool', 'Ip')],
  minArgs: 1,
  returns: 'Bytes',
  compile: (params) => (params[0].type === 'Int' ? intToString : params[0].type === 'Bool' ? boolToString : ipToString),
});

const prefixLength = (max: number) => literal(['Int'], (bits) => intInRange(bits, 1, max));

function maskingImpl(v4Bits: number, v6Bits: number): FunctionImpl {
  const v4Mask = ipv4Mask(v4Bits);
  const v6Mask = ipv6Mask(v6Bits);
  return (args) => (args[0] === undefined ? undefined : maskIp(args[0] as Ip, v4Mask, v6Mask));
}

/** cidr(ip, v4bits, v6bits): the network address under the prefix length of the address's family. */
export const cidr = defineFunction({
  name: 'cidr',
  arguments: [field('Ip'), prefixLength(32), prefixLength(128)],
  minArgs: 3,
  returns: 'Ip',
  compile: (params) => maskingImpl(Number(literalValue(params[1])), Number(literalValue(params[2]))),
});

/** cidr6(ip, v6bits) = cidr(ip, 32, v6bits): IPv4 addresses pass unchanged. */
export const cidr6 = defineFunction({
  name: 'cidr6',
  arguments: [field('Ip'), prefixLength(128)],
  minArgs: 2,
  returns: 'Ip',
  compile: (params) => maskingImpl(32, Number(literalValue(params[1]))),
});

/** The standard alphabet, then at most two `=`; the length rules are checked separately. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard base64 with optional but correct padding; undefined for any other character or
 * an impossible length (Buffer's decoder alone would skip junk and accept the URL-safe alphabet).
 */
export function decodeBase64(encoded: Bytes): Bytes | undefined {
  if (!BASE64.test(encoded)) return undefined;
  const padding = encoded.endsWith('==') ? 2 : encoded.endsWith('=') ? 1 : 0;
  if (padding > 0 ? encoded.length % 4 !== 0 : encoded.length % 4 === 1) return undefined;
  return Buffer.from(encoded, 'base64').toString('latin1');
}

const decodeBase64Impl: FunctionImpl = (args) => (args[0] === undefined ? undefined : decodeBase64(args[0] as Bytes));

export const decodeBase64Function = defineFunction({
  name: 'decode_base64',
  arguments: [field('Bytes')],
  minArgs: 1,
  returns: 'Bytes',
  compile: () => decodeBase64Impl,
});

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** The first 16 bytes of the seed with the version 4 and RFC 4122 variant bits set, as `8-4-4-4-12` hex. */
export function uuidv4FromSeed(seed: Bytes): Bytes | undefined {
  if (seed.length < 16) return undefined;
  let uuid = '';
  for (let i = 0; i < 16; i++) {
    let byte = seed.charCodeAt(i);
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) uuid += '-';
    uuid += HEX_BYTES[byte];
  }
  return uuid;
}

const uuidv4Impl: FunctionImpl = (args) => (args[0] === undefined ? undefined : uuidv4FromSeed(args[0] as Bytes));

export const uuidv4 = defineFunction({
  name: 'uuidv4',
  arguments: [field('Bytes')],
  minArgs: 1,
  returns: 'Bytes',
  compile: () => uuidv4Impl,
});
