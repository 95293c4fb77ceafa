// Where each token of a document starts, in UTF-8 byte offsets, from parse5's SAX tokenizer (an
// independent WHATWG tokenizer with source locations): the latency probe's measure of "the
// incomplete token" at a point of the input.
import { once } from 'node:events';
import { SAXParser } from 'parse5-sax-parser';
import type { SaxToken } from 'parse5-sax-parser';

export async function tokenStarts(bytes: Uint8Array): Promise<Int32Array> {
  const html = new TextDecoder().decode(bytes);
  // parse5's offsets count UTF-16 code units: map them to byte offsets.
  const byteAt = new Int32Array(html.length + 1);
  for (let i = 0, b = 0; i <= html.length; i++) {
    byteAt[i] = b;
    const c = html.charCodeAt(i);
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : c >= 0xdc00 && c < 0xe000 ? 0 : 3;
  }
  const starts: number[] = [0];
  const parser = new SAXParser({ sourceCodeLocationInfo: true });
  const record = (token: SaxToken): void => {
    if (token.sourceCodeLocation) starts.push(byteAt[token.sourceCodeLocation.startOffset]);
  };
  for (const event of ['startTag', 'endTag', 'comment', 'doctype', 'text'] as const) parser.on(event, record);
  const done = once(parser, 'finish');
  parser.end(html);
  await done;
  starts.push(bytes.length);
  return Int32Array.from(new Set(starts)).sort();
}
