// Email address obfuscation: addresses in a page's text and its mailto: links are replaced by an
// encoded form (addresses.ts) that address harvesters do not recognise, and a small script
// (decoder-script.ts) restores them in the visitor's browser. Text inside elements whose content
// is not ordinary markup — script, style, textarea, title, select, SVG, MathML, ... — is never
// touched, nor is any attribute but the href of a mailto: link.
//
// An address may arrive split across text chunks: the end of a chunk that may still grow into an
// address (at most MAX_ADDRESS characters) is held back until the next chunk or the end of the
// text, so a chunk boundary never changes the result.
import type { HtmlFeatureSelection } from '../../config/html.ts';
import type { TextChunk } from '../../html/index.ts';
import type { Plugin, Reply } from '../../proxy/plugin.ts';
import { htmlFeaturePlugin, type HtmlFeature, type HtmlFeatureDeps } from '../html-rewriting/feature-plugin.ts';
import { decodeAttributeValue, encodeAddress, findAddress, unfinishedTail } from './addresses.ts';
import { ADDRESS_ATTRIBUTE, DECODER_SCRIPT, HIDDEN_TEXT, PROTECTION_PAGE, PROTECTION_PATH } from './decoder-script.ts';

export const EMAIL_OBFUSCATION = 'email_obfuscation';

/**
 * Elements whose text is not rendered as markup (raw text, RCDATA, foreign content, inert
 * templates) or where an inserted element would not survive parsing (select).
 */
const VERBATIM = 'script, style, textarea, title, xmp, iframe, noembed, noframes, noscript, plaintext, template, select, svg, math';

const AS_HTML = { html: true };

export function emailObfuscationPlugin(config: HtmlFeatureSelection, deps: HtmlFeatureDeps): Plugin {
  return htmlFeaturePlugin(emailObfuscationFeature(), config, deps, answerProtectionPage);
}

/** A protected link followed without JavaScript lands on frontline's explanation, not on the origin. */
function answerProtectionPage(ctx: { path: string; method: string }): Reply | void {
  if (ctx.path !== PROTECTION_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return;
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=86400', 'x-robots-tag': 'noindex' },
    body: PROTECTION_PAGE,
  };
}

/** A hidden text address, as the page carries it. */
const hiddenAddress = (address: string, key: number): string =>
  `<span ${ADDRESS_ATTRIBUTE}="${encodeAddress(address, key)}">${HIDDEN_TEXT}</span>`;

/** `text` with every address hidden; undefined when it has none. */
function hideAddresses(text: string, key: number): string | undefined {
  let found = findAddress(text, 0);
  if (found === undefined) return undefined;
  let out = '';
  let copied = 0;
  while (found !== undefined) {
    out += text.slice(copied, found.start) + hiddenAddress(text.slice(found.start, found.end), key);
    copied = found.end;
    found = findAddress(text, copied);
  }
  return out + text.slice(copied);
}

const isMailto = (href: string): boolean => /^[\t\n\f\r ]*mailto:/i.test(href);

export function emailObfuscationFeature(): HtmlFeature {
  return {
    name: EMAIL_OBFUSCATION,
    register(rewriter) {
      // Per response: a fresh key, the verbatim elements open, the text held back, and whether
      // the page needs the decoder script and has it.
      const key = 1 + Math.floor(Math.random() * 255);
      let verbatimDepth = 0;
      let held = '';
      let hidden = false;
      let scriptAdded = false;

      rewriter.on(VERBATIM, {
        element(element) {
          // A self-closing <svg/> or <math/> has no content.
          if (!element.canHaveContent) return;
          verbatimDepth++;
          element.onEndTag(() => {
            verbatimDepth--;
          });
        },
      });
      rewriter.on('a[href], area[href]', {
        element(link) {
          if (verbatimDepth > 0) return;
          const raw = link.getAttribute('href')!;
          if (!isMailto(raw)) return;
          const href = decodeAttributeValue(raw);
          if (href === undefined) return;
          link.setAttribute('href', `${PROTECTION_PATH}#${encodeAddress(href, key)}`);
          hidden = true;
        },
      });
      rewriter.on('body', {
        element(body) {
          body.onEndTag((end) => {
            if (!hidden || scriptAdded) return;
            scriptAdded = true;
            end.before(DECODER_SCRIPT, AS_HTML);
          });
        },
      });
      rewriter.onDocument({
        text(chunk: TextChunk) {
          if (verbatimDepth > 0) return;
          const input = chunk.text;
          if (held === '' && input.indexOf('@') === -1) {
            // No address can end in this chunk; one may start at its end.
            if (chunk.lastInTextNode) return;
            const tail = unfinishedTail(input);
            if (tail === input.length) return;
            held = input.slice(tail);
            chunk.replace(input.slice(0, tail), AS_HTML);
            return;
          }
          const text = held + input;
          const end = chunk.lastInTextNode ? text.length : unfinishedTail(text);
          held = text.slice(end);
          const ready = text.slice(0, end);
          const rewritten = hideAddresses(ready, key);
          if (rewritten !== undefined) hidden = true;
          const out = rewritten ?? ready;
          // Text handed back is raw markup, exactly as it came (character references and all).
          if (out !== input) chunk.replace(out, AS_HTML);
        },
        end(end) {
          if (hidden && !scriptAdded) end.append(DECODER_SCRIPT, AS_HTML);
        },
      });
    },
  };
}
