// SecLang regexes (@rx, key selectors) on the project's linear-time engine (src/rules/regex: RE2
// semantics, no backtracking, so no pattern/input pair can blow up). CRS v4 writes its patterns
// for RE2 (Coraza runs them on Go's regexp), so they are taken as they are, with the flags
// libmodsecurity3 and Coraza compile @rx with: `s` (dot matches newline) and `m` (^ and $ at
// line ends). The one PCRE spelling translated is `\x{HH}` for a byte ≤ 0xFF, which PCRE in
// byte mode reads as that byte.
import { compileRegex, type Regex } from '../rules/regex/index.ts';

const cache = new Map<string, Regex>();

/** Compiles (once per process) a pattern as @rx does; throws RegexSyntaxError. */
export function operatorRegex(pattern: string): Regex {
  return cached(`(?sm)${bytesEscapes(pattern)}`);
}

/** A key selector (`ARGS:/^foo/`): case-insensitive, as ModSecurity compiles them. */
export function keyRegex(pattern: string): Regex {
  return cached(`(?is)${bytesEscapes(pattern)}`);
}

function cached(source: string): Regex {
  let regex = cache.get(source);
  if (regex === undefined) {
    regex = compileRegex(source);
    cache.set(source, regex);
  }
  return regex;
}

/** `\x{HH}` → `\xHH` for HH ≤ FF (outside a `\\` escape). */
function bytesEscapes(pattern: string): string {
  if (!pattern.includes('\\x{')) return pattern;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const match = /^\\x\{([0-9a-fA-F]{1,2})\}/.exec(pattern.slice(i, i + 7));
    if (match !== null) {
      out += `\\x${match[1].padStart(2, '0')}`;
      i += match[0].length - 1;
    } else {
      out += c + (pattern[i + 1] ?? '');
      i++;
    }
  }
  return out;
}
