// SecLang files → directives. A directive is a name and its arguments, as Apache's config reader
// splits them: arguments are separated by white space, and may be double- or single-quoted (a
// backslash escapes the quote inside; other backslashes stay, `\\\\` included). A line that ends in a backslash
// continues on the next one; `#` starts a comment line. `Include` (also `IncludeOptional`) reads
// other files — a glob, relative to the including file — in place.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface Directive {
  /** As written, e.g. `SecRule`; compare case-insensitively. */
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  /** The line the directive starts on (1-based). */
  readonly line: number;
}

/** A file that does not load: where and why. */
export class SecLangError extends Error {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'SecLangError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

const MAX_INCLUDE_DEPTH = 32;

/** Reads the files (each a path or a glob), following Includes, into one list of directives. */
export function readDirectiveFiles(patterns: readonly string[], baseDir = process.cwd()): Directive[] {
  const out: Directive[] = [];
  for (const pattern of patterns) {
    const files = expandGlob(isAbsolute(pattern) ? pattern : resolve(baseDir, pattern));
    if (files.length === 0) throw new SecLangError(pattern, 0, 'no file matches this path');
    for (const file of files) readFile(file, out, 0);
  }
  return out;
}

/** Parses SecLang text; `file` names it in errors. Includes are resolved relative to `file`. */
export function parseDirectives(text: string, file: string, out: Directive[] = [], depth = 0): Directive[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = stripCr(lines[i]);
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + stripCr(lines[++i]);
    }
    const trimmed = line.trim();
    if (trimmed.length === 0 || trimmed.startsWith('#')) continue;
    const words = splitArguments(trimmed, file, start + 1);
    const [name, ...args] = words;
    const lower = name.toLowerCase();
    if (lower === 'include' || lower === 'includeoptional') {
      if (args.length !== 1) throw new SecLangError(file, start + 1, `${name} takes one path`);
      if (depth >= MAX_INCLUDE_DEPTH) throw new SecLangError(file, start + 1, `Include nested more than ${MAX_INCLUDE_DEPTH} deep (a file including itself?)`);
      const target = isAbsolute(args[0]) ? args[0] : join(dirname(file), args[0]);
      const files = expandGlob(target);
      if (files.length === 0 && lower === 'include') throw new SecLangError(file, start + 1, `Include: no file matches ${target}`);
      for (const included of files) readFile(included, out, depth + 1);
      continue;
    }
    out.push({ name, args, file, line: start + 1 });
  }
  return out;
}

function readFile(file: string, out: Directive[], depth: number): void {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (error) {
    throw new SecLangError(file, 0, `cannot read the file: ${(error as Error).message}`);
  }
  parseDirectives(text, file, out, depth);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Splits a directive line into words; quotes group, and `\"` inside double quotes is a quote. */
export function splitArguments(line: string, file: string, lineNumber: number): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let word = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== c; j++) {
        if (line[j] === '\\' && line[j + 1] === c) {
          word += c;
          j++;
        } else if (line[j] === '\\' && line[j + 1] === '\\') {
          // An escaped backslash stays as written (as Coraza keeps it), and cannot escape a quote.
          word += '\\\\';
          j++;
        } else {
          word += line[j];
        }
      }
      if (j >= line.length) throw new SecLangError(file, lineNumber, `unterminated ${c === '"' ? 'double' : 'single'}-quoted argument: ${line.slice(i, i + 60)}`);
      words.push(word);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
    words.push(line.slice(i, j));
    i = j;
  }
  return words;
}

/** A path, or a glob with `*`/`?`/`[...]` in its last component: the matching files, sorted. */
function expandGlob(path: string): string[] {
  const dir = dirname(path);
  const base = path.slice(dir.length + 1);
  if (!/[*?[]/.test(base)) {
    try {
      return statSync(path).isFile() ? [path] : [];
    } catch {
      return [];
    }
  }
  const pattern = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => pattern.test(name)).sort().map((name) => join(dir, name));
}
