// Documents for the differential checker from ../shared/html-rewriter: the `#data` inputs of the
// html5lib tree-construction tests and of lol-html's regression files, and the inputs of
// lol-html's expected bail-outs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const SHARED_HTML = new URL('../../../shared/html-rewriter/', import.meta.url).pathname;

export interface Corpus {
  /** html5lib tree-construction `#data` inputs (tree-construction/**\/*.dat). */
  html5lib: string[];
  /** lol-html regression/*.dat inputs and expected_bailouts.json's keys. */
  regression: string[];
}

/** The `#data` sections of a .dat file (the newline before the next `#` line is not part of the data). */
export function datInputs(text: string): string[] {
  const inputs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '#data') continue;
    const data: string[] = [];
    for (i++; i < lines.length && !/^#(?:errors|new-errors|document|document-fragment|script-on|script-off|data)?$/.test(lines[i]); i++) data.push(lines[i]);
    i--;
    inputs.push(data.join('\n'));
  }
  return inputs;
}

function datFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.dat'))
    .sort()
    .map((f) => join(dir, f));
}

/** The corpus, or empty lists when ../shared is absent (the generated documents still work). */
export function loadCorpus(): Corpus {
  const read = (files: string[]) => files.flatMap((f) => datInputs(readFileSync(f, 'utf8')));
  const html5lib = read(datFiles(join(SHARED_HTML, 'html5lib-tests/tree-construction')));
  const regression = read(datFiles(join(SHARED_HTML, 'lol-html/regression')));
  const bailouts = join(SHARED_HTML, 'lol-html/expected_bailouts.json');
  if (existsSync(bailouts)) regression.push(...Object.keys(JSON.parse(readFileSync(bailouts, 'utf8')) as object));
  return { html5lib, regression };
}
