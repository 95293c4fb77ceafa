// HTML injection: configured snippets (an analytics script, a banner) inserted once per page,
// before </head> or before </body>. A page without </head> gets its head snippets where the head
// ends, before <body>; a page without the end tag at all gets them at the end of the document,
// where an HTML parser still takes them in.
import type { HtmlInjectionConfig, InjectionSnippet } from '../../config/html.ts';
import type { Plugin } from '../../proxy/plugin.ts';
import { htmlFeaturePlugin, type HtmlFeature, type HtmlFeatureDeps } from '../html-rewriting/feature-plugin.ts';

export const HTML_INJECTION = 'html_injection';

const AS_HTML = { html: true };

export function htmlInjectionPlugin(config: HtmlInjectionConfig, deps: HtmlFeatureDeps): Plugin {
  return htmlFeaturePlugin(htmlInjectionFeature(config.snippets), config, deps);
}

export function htmlInjectionFeature(snippets: readonly InjectionSnippet[]): HtmlFeature {
  const headEnd = snippets.filter((s) => s.position === 'head_end').map((s) => s.html).join('');
  const bodyEnd = snippets.filter((s) => s.position === 'body_end').map((s) => s.html).join('');
  return {
    name: HTML_INJECTION,
    register(rewriter) {
      // Per response: whether each snippet went in, and whether the first <body> was seen.
      let headDone = headEnd === '';
      let bodyDone = bodyEnd === '';
      let bodySeen = false;
      if (!headDone) {
        rewriter.on('head', {
          element(head) {
            if (headDone) return;
            head.onEndTag((end) => {
              if (headDone) return;
              headDone = true;
              end.before(headEnd, AS_HTML);
            });
          },
        });
      }
      rewriter.on('body', {
        element(body) {
          if (!headDone) {
            headDone = true;
            body.before(headEnd, AS_HTML);
          }
          if (bodySeen || bodyDone) return;
          bodySeen = true;
          body.onEndTag((end) => {
            if (bodyDone) return;
            bodyDone = true;
            end.before(bodyEnd, AS_HTML);
          });
        },
      });
      rewriter.onDocument({
        end(end) {
          if (!headDone) end.append(headEnd, AS_HTML);
          if (!bodyDone) end.append(bodyEnd, AS_HTML);
        },
      });
    },
  };
}
