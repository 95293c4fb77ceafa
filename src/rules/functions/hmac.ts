// is_timed_hmac_valid_v0 (SPEC.md 11.9): a MessageMAC is
// `message ‖ separator ‖ timestamp (10 digits) ‖ "-" ‖ base64(HMAC-SHA256(key, message ‖ timestamp))`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Bytes, Int } from '../values.ts';
import { decodeBase64 } from './conversions.ts';
import { defineFunction, field, intInRange, literal, literalValue } from './signature.ts';

const TIMESTAMP_DIGITS = 10;
/** base64url of a 32-byte SHA-256 MAC, without padding. */
const URL_SAFE_MAC_LENGTH = 43;

export interface TimedHmacOptions {
  readonly key: Buffer;
  /** Seconds a token stays valid after its timestamp. */
  readonly ttl: number;
  /** Bytes between the message and the timestamp (e.g. `?verify=`), excluded from the MAC. */
  readonly separatorLength: number;
  /** true: the MAC is URL-safe base64 without padding; false: standard base64, then URL-encoded. */
  readonly urlSafe: boolean;
}

export function isTimedHmacValid(messageMac: Bytes, now: number, options: TimedHmacOptions): boolean {
  // The standard alphabet and its URL encoding contain no `-`; the URL-safe MAC has a fixed length.
  const dash = options.urlSafe ? messageMac.length - URL_SAFE_MAC_LENGTH - 1 : messageMac.lastIndexOf('-');
  const timestampStart = dash - TIMESTAMP_DIGITS;
  const messageEnd = timestampStart - options.separatorLength;
  if (messageEnd < 0 || messageMac[dash] !== '-') return false;
  const timestamp = messageMac.slice(timestampStart, dash);
  if (!/^[0-9]{10}$/.test(timestamp) || now - Number(timestamp) > options.ttl) return false;
  const mac = decodeMac(messageMac.slice(dash + 1), options.urlSafe);
  if (mac === undefined) return false;
  const expected = createHmac('sha256', options.key)
    .update(Buffer.from(messageMac.slice(0, messageEnd) + timestamp, 'latin1'))
    .digest();
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}

function decodeMac(text: Bytes, urlSafe: boolean): Buffer | undefined {
  if (urlSafe) return /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : undefined;
  const base64 = decodeBase64(text.replace(/%(2B|2F|3D)/gi, (escape) => decodeURIComponent(escape)));
  return base64 === undefined ? undefined : Buffer.from(base64, 'latin1');
}

export const isTimedHmacValidV0 = defineFunction({
  name: 'is_timed_hmac_valid_v0',
  arguments: [
    literal(['Bytes']),
    field('Bytes'),
    literal(['Int']),
    { kind: 'any', types: ['Int'] },
    literal(['Int'], (length) => intInRange(length, 0, Number.MAX_SAFE_INTEGER)),
    literal(['Bytes'], (flags) => flags === '' || flags === 's'),
  ],
  minArgs: 4,
  returns: 'Bool',
  compile(params) {
    const options: TimedHmacOptions = {
      key: Buffer.from(literalValue(params[0]) as Bytes, 'latin1'),
      ttl: Number(literalValue(params[2])),
      separatorLength: params.length > 4 ? Number(literalValue(params[4])) : 0,
      urlSafe: params.length > 5 && literalValue(params[5]) === 's',
    };
    return (args) => {
      const messageMac = args[1] as Bytes | undefined;
      const now = args[3] as Int | undefined;
      if (messageMac === undefined || now === undefined) return undefined;
      return isTimedHmacValid(messageMac, Number(now), options);
    };
  },
});
