// The standard function library (SPEC.md section 11), registered in every scheme.
import type { FunctionDefinition } from '../function.ts';
import {
  concat,
  endsWith,
  join,
  len,
  lower,
  removeBytes,
  removeQueryArgs,
  split,
  startsWith,
  substring,
  upper,
} from './bytes.ts';
import { cidr, cidr6, decodeBase64Function, toStringFunction, uuidv4 } from './conversions.ts';
import { isTimedHmacValidV0 } from './hmac.ts';
import { lookupJsonInteger, lookupJsonString } from './json.ts';
import { regexReplace, wildcardReplace } from './replace.ts';
import { urlDecode } from './url-decode.ts';

export const standardFunctions: ReadonlyMap<string, FunctionDefinition> = new Map(
  [
    concat,
    lower,
    upper,
    len,
    startsWith,
    endsWith,
    urlDecode,
    lookupJsonString,
    lookupJsonInteger,
    regexReplace,
    wildcardReplace,
    removeBytes,
    removeQueryArgs,
    toStringFunction,
    cidr,
    cidr6,
    decodeBase64Function,
    join,
    split,
    substring,
    uuidv4,
    isTimedHmacValidV0,
  ].map((definition) => [definition.name, definition]),
);
