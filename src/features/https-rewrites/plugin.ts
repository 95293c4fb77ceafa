// Automatic HTTPS rewrites: `http://` URLs in src, href, action and srcset (every candidate) that
// point at a host known to serve HTTPS become `https://`, so that a page served over HTTPS does
// not load mixed content. Only the scheme changes (and an explicit default port :80 goes, as it
// would be wrong for https); URLs with another port, other hosts and other attributes are left
// exactly as they were.
import type { HttpsRewritesConfig } from '../../config/html.ts';
import type { Plugin } from '../../proxy/plugin.ts';
import { htmlFeaturePlugin, type HtmlFeature, type HtmlFeatureDeps } from '../html-rewriting/feature-plugin.ts';
import type { Element } from '../../html/index.ts';

export const HTTPS_REWRITES = 'https_rewrites';

/** Attributes holding one URL. */
const URL_ATTRIBUTES = ['src', 'href', 'action'] as const;

export function httpsRewritesPlugin(config: HttpsRewritesConfig, deps: HtmlFeatureDeps): Plugin {
  return htmlFeaturePlugin(httpsRewritesFeature(config.hosts), config, deps);
}

export function httpsRewritesFeature(hosts: readonly string[]): HtmlFeature {
  const knowsHttps = hostMatcher(hosts);
  const handlers = {
    element(element: Element): void {
      for (const name of URL_ATTRIBUTES) {
        const value = element.getAttribute(name);
        if (value === null) continue;
        const upgraded = httpsUrl(value, knowsHttps);
        if (upgraded !== undefined) element.setAttribute(name, upgraded);
      }
      const srcset = element.getAttribute('srcset');
      if (srcset === null) return;
      const upgraded = httpsSrcset(srcset, knowsHttps);
      if (upgraded !== undefined) element.setAttribute('srcset', upgraded);
    },
  };
  return {
    name: HTTPS_REWRITES,
    register(rewriter) {
      rewriter.on('[src], [href], [action], [srcset]', handlers);
    },
  };
}

/** "example.com" matches itself; "*.example.com" any name ending in ".example.com". */
export function hostMatcher(hosts: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const host of hosts) {
    if (host.startsWith('*.')) suffixes.push(host.slice(1));
    else exact.add(host);
  }
  return (host) => {
    if (exact.has(host)) return true;
    for (const suffix of suffixes) if (host.length > suffix.length && host.endsWith(suffix)) return true;
    return false;
  };
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 12 || c === 13;

/** The https:// form of `url` when it is an http:// URL of a known host; undefined otherwise. */
export function httpsUrl(url: string, knowsHttps: (host: string) => boolean): string | undefined {
  let start = 0;
  while (start < url.length && isSpace(url.charCodeAt(start))) start++;
  // "http://", ASCII case-insensitively (the fastest test first: most URLs are not absolute).
  if (url.length - start < 8 || (url.charCodeAt(start + 4) !== 58 /* : */) || url.slice(start, start + 7).toLowerCase() !== 'http://') return undefined;
  const authorityStart = start + 7;
  let end = authorityStart;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */ || c === 92 /* \ */) break;
    end++;
  }
  const authority = url.slice(authorityStart, end);
  const hostStart = authority.lastIndexOf('@') + 1;
  let hostPort = authority.slice(hostStart);
  const colon = hostPort.lastIndexOf(':');
  if (colon !== -1 && !hostPort.endsWith(']')) {
    const port = hostPort.slice(colon + 1);
    if (port !== '' && port !== '80') return undefined;
    hostPort = hostPort.slice(0, colon);
  }
  let host = hostPort.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!knowsHttps(host)) return undefined;
  return `${url.slice(0, start)}https://${authority.slice(0, hostStart)}${hostPort}${url.slice(end)}`;
}

/**
 * A srcset with each candidate URL upgraded as httpsUrl does; undefined when none changes. Split
 * as the HTML standard parses srcset: a URL is a run of non-space characters (trailing commas
 * end the candidate), then descriptors up to a comma outside parentheses.
 */
export function httpsSrcset(srcset: string, knowsHttps: (host: string) => boolean): string | undefined {
  let out: string | undefined;
  let copied = 0;
  let i = 0;
  const n = srcset.length;
  while (i < n) {
    while (i < n && (isSpace(srcset.charCodeAt(i)) || srcset.charCodeAt(i) === 44 /* , */)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(srcset.charCodeAt(i))) i++;
    let urlEnd = i;
    while (urlEnd > start && srcset.charCodeAt(urlEnd - 1) === 44) urlEnd--;
    const upgraded = httpsUrl(srcset.slice(start, urlEnd), knowsHttps);
    if (upgraded !== undefined) {
      out = (out ?? '') + srcset.slice(copied, start) + upgraded;
      copied = urlEnd;
    }
    if (urlEnd < i) continue;
    let depth = 0;
    while (i < n) {
      const c = srcset.charCodeAt(i++);
      if (c === 40 /* ( */) depth++;
      else if (c === 41 /* ) */ && depth > 0) depth--;
      else if (c === 44 && depth === 0) break;
    }
  }
  return out === undefined ? undefined : out + srcset.slice(copied);
}
