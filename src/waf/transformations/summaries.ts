// Transformations that replace a value by a summary of it: length, md5, sha1.
import { hash } from 'node:crypto';

/** The value's length in bytes, in decimal. */
export function length(input: string): string {
  return String(input.length);
}

/** The raw 16-byte MD5 digest, as a binary string. */
export function md5(input: string): string {
  return hash('md5', Buffer.from(input, 'latin1'), 'binary');
}

/** The raw 20-byte SHA-1 digest, as a binary string. */
export function sha1(input: string): string {
  return hash('sha1', Buffer.from(input, 'latin1'), 'binary');
}
