// regex_replace and wildcard_replace (SPEC.md 11.5, 11.6) and their replacement templates.
import { compileRegex, RegexSyntaxError, type Regex } from '../regex/index.ts';
import { decodeUtf8, type Bytes } from '../values.ts';
import { compileWildcard, WildcardSyntaxError, type Wildcard } from '../wildcard.ts';
import { defineFunction, field, literal, literalValue } from './signature.ts';

/** A replacement template: `literals[0] ${groups[0]} literals[1] … ${groups[n-1]} literals[n]`. */
export interface Template {
  readonly literals: readonly Bytes[];
  readonly groups: readonly number[];
}

const MAX_REFERENCES = 8;

/**
 * Parses a replacement: `$$` is `$`, `${N}` inserts group N (0..groupCount); any other `$`, a
 * group beyond groupCount or more than 8 references → undefined.
 */
export function parseTemplate(text: Bytes, groupCount: number): Template | undefined {
  const literals: Bytes[] = [];
  const groups: number[] = [];
  let literalText = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== '$') {
      literalText += char;
    } else if (text[i + 1] === '$') {
      literalText += '$';
      i++;
    } else {
      const reference = /^\{([0-9]+)\}/.exec(text.slice(i + 1));
      if (reference === null) return undefined;
      const group = Number(reference[1]);
      if (group > groupCount || groups.length === MAX_REFERENCES) return undefined;
      literals.push(literalText);
      groups.push(group);
      literalText = '';
      i += reference[0].length;
    }
  }
  literals.push(literalText);
  return { literals, groups };
}

/** The template with each group's text from `subject` (`positions` as Regex.captures gives them). */
export function expandTemplate(template: Template, subject: Bytes, positions: readonly number[]): Bytes {
  let expanded = template.literals[0];
  for (let i = 0; i < template.groups.length; i++) {
    const start = positions[2 * template.groups[i]];
    // A group that did not participate inserts nothing.
    if (start >= 0) expanded += subject.slice(start, positions[2 * template.groups[i] + 1]);
    expanded += template.literals[i + 1];
  }
  return expanded;
}

/** The regex a pattern argument denotes, or undefined if it is not valid UTF-8 or does not compile. */
function regexOf(pattern: Bytes): Regex | undefined {
  // Parsing checks the pattern, then the template against it, then compiles the call: one pattern
  // three times in a row.
  if (lastRegex?.pattern !== pattern) lastRegex = { pattern, regex: compilePattern(pattern) };
  return lastRegex.regex;
}
let lastRegex: { readonly pattern: Bytes; readonly regex: Regex | undefined } | undefined;

function compilePattern(pattern: Bytes): Regex | undefined {
  const text = decodeUtf8(pattern);
  if (text === undefined) return undefined;
  try {
    return compileRegex(text);
  } catch (error) {
    if (error instanceof RegexSyntaxError) return undefined;
    throw error;
  }
}

export const regexReplace = defineFunction({
  name: 'regex_replace',
  arguments: [
    field('Bytes'),
    literal(['Bytes'], (pattern) => regexOf(pattern as Bytes) !== undefined),
    literal(['Bytes'], (replacement, previous) => {
      const groups = regexOf(literalValue(previous[1]) as Bytes)!.groupCount;
      return parseTemplate(replacement as Bytes, groups) !== undefined;
    }),
  ],
  minArgs: 3,
  returns: 'Bytes',
  compile(params) {
    const regex = regexOf(literalValue(params[1]) as Bytes)!;
    const template = parseTemplate(literalValue(params[2]) as Bytes, regex.groupCount)!;
    return (args) => {
      const subject = args[0] as Bytes | undefined;
      if (subject === undefined) return undefined;
      // Only the first (leftmost-first) match is replaced.
      const positions = regex.captures(subject);
      if (positions === null) return subject;
      return subject.slice(0, positions[0]) + expandTemplate(template, subject, positions) + subject.slice(positions[1]);
    };
  },
});

function wildcardOf(pattern: Bytes, caseSensitive: boolean): Wildcard | undefined {
  try {
    return compileWildcard(pattern, { caseSensitive });
  } catch (error) {
    if (error instanceof WildcardSyntaxError) return undefined;
    throw error;
  }
}

export const wildcardReplace = defineFunction({
  name: 'wildcard_replace',
  arguments: [
    field('Bytes'),
    literal(['Bytes'], (pattern) => wildcardOf(pattern as Bytes, true) !== undefined),
    literal(['Bytes'], (replacement, previous) => {
      const stars = wildcardOf(literalValue(previous[1]) as Bytes, true)!.starCount;
      return parseTemplate(replacement as Bytes, stars) !== undefined;
    }),
    literal(['Bytes'], (flags) => flags === '' || flags === 's'),
  ],
  minArgs: 3,
  returns: 'Bytes',
  compile(params) {
    const caseSensitive = params.length > 3 && literalValue(params[3]) === 's';
    const wildcard = wildcardOf(literalValue(params[1]) as Bytes, caseSensitive)!;
    const template = parseTemplate(literalValue(params[2]) as Bytes, wildcard.starCount)!;
    return (args) => {
      const subject = args[0] as Bytes | undefined;
      if (subject === undefined) return undefined;
      // The pattern matches the whole value, so the expansion replaces all of it.
      const positions = wildcard.captures(subject);
      return positions === null ? subject : expandTemplate(template, subject, positions);
    };
  },
});
