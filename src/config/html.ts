// The `html:` section: the response features that rewrite HTML as it streams (email obfuscation,
// HTTPS rewrites, HTML injection), each switched on everywhere or per route and optionally
// narrowed by an expression. Expressions are parsed here, when a configuration is loaded or
// reloaded, so a bad one rejects the file with its position, as a firewall rule's does.
import { RuleParseError } from '../rules/errors.ts';
import { httpScheme } from '../rules/http-scheme.ts';
import type { ListDefinition } from '../rules/lists.ts';
import { parse } from '../rules/parser.ts';
import { describeParseError, listReferences } from './firewall.ts';
import type { ConfigFile } from './schema.ts';

/** The features' names: their keys in `html:` and in a route's `plugins`. */
export const HTML_FEATURES = ['email_obfuscation', 'https_rewrites', 'html_injection'] as const;
export type HtmlFeatureName = (typeof HTML_FEATURES)[number];

export interface HtmlFeatureSelection {
  /** On for every route that does not switch it off. */
  readonly enabled: boolean;
  /** On for these routes whatever `enabled` says (`plugins: { <name>: true }`), by route index. */
  readonly routes: ReadonlySet<number>;
  /** Only requests matching it (undefined: every request). */
  readonly expression: string | undefined;
}

export interface HttpsRewritesConfig extends HtmlFeatureSelection {
  /** Lower-case host names; "*.example.com" stands for any subdomain. */
  readonly hosts: readonly string[];
}

export interface InjectionSnippet {
  readonly position: 'head_end' | 'body_end';
  readonly html: string;
}

export interface HtmlInjectionConfig extends HtmlFeatureSelection {
  readonly snippets: readonly InjectionSnippet[];
}

export interface HtmlConfig {
  /** Bytes the rewriter may buffer for one response. */
  readonly maxMemory: number;
  readonly emailObfuscation: HtmlFeatureSelection;
  readonly httpsRewrites: HttpsRewritesConfig;
  readonly htmlInjection: HtmlInjectionConfig;
}

type Problem = (segments: (string | number)[], message: string) => void;

/** Least html.max_memory: a few of the 16KiB pieces the engine is given at once (features/html-rewriting/feature-plugin.ts). */
const MIN_MEMORY = 64 * 1024;

const HOST_PATTERN = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** A feature is used when it is enabled, or when some route switches it on. */
export const featureUsed = (feature: HtmlFeatureSelection): boolean => feature.enabled || feature.routes.size > 0;

export function resolveHtml(
  section: ConfigFile['html'],
  routes: ConfigFile['routes'],
  lists: ReadonlyMap<string, ListDefinition>,
  maxMemory: number,
  problem: Problem,
): HtmlConfig {
  const selection = (name: HtmlFeatureName, settings: { enabled: boolean; expression?: string }): HtmlFeatureSelection => {
    const on = new Set<number>();
    routes.forEach((route, i) => {
      if (route.plugins?.[name] === true) on.add(i);
    });
    const expression = settings.expression?.trim() === '' ? undefined : settings.expression;
    if (expression !== undefined) checkExpression(expression, ['html', name, 'expression'], lists, problem);
    return { enabled: settings.enabled, routes: on, expression };
  };

  const email = selection('email_obfuscation', section.email_obfuscation);

  const https = section.https_rewrites;
  const hosts: string[] = [];
  https.hosts.forEach((host, i) => {
    const name = host.toLowerCase().replace(/\.$/, '');
    if (HOST_PATTERN.test(name)) hosts.push(name);
    else problem(['html', 'https_rewrites', 'hosts', i], `"${host}" is not a host name (example.com) or a subdomain pattern (*.example.com)`);
  });
  const httpsRewrites: HttpsRewritesConfig = { ...selection('https_rewrites', https), hosts };
  if (featureUsed(httpsRewrites) && https.hosts.length === 0) {
    problem(['html', 'https_rewrites', 'hosts'], 'https_rewrites is switched on but lists no hosts: name the hosts known to serve HTTPS ("example.com", "*.example.com")');
  }

  const injection = section.html_injection;
  const htmlInjection: HtmlInjectionConfig = { ...selection('html_injection', injection), snippets: injection.snippets };
  if (featureUsed(htmlInjection) && injection.snippets.length === 0) {
    problem(['html', 'html_injection', 'snippets'], 'html_injection is switched on but has no snippets: add { position: head_end or body_end, html: "..." }');
  }

  if (maxMemory < MIN_MEMORY) {
    problem(['html', 'max_memory'], `${maxMemory} bytes is too little: the rewriter needs room for an unfinished tag and the next piece of input (16KiB); use at least 64KiB`);
  }
  return { maxMemory, emailObfuscation: email, httpsRewrites, htmlInjection };
}

function checkExpression(expression: string, segments: (string | number)[], lists: ReadonlyMap<string, ListDefinition>, problem: Problem): void {
  try {
    const { root } = parse(httpScheme, expression);
    for (const { name, type } of listReferences(root)) {
      const list = lists.get(name);
      if (list === undefined) problem(segments, `the expression uses $${name}, but firewall.lists has no list of that name`);
      else if (list.type !== type) problem(segments, `the expression tests a ${type} value against $${name}, which is a list of type ${list.type}`);
    }
  } catch (error) {
    if (!(error instanceof RuleParseError)) throw error;
    problem(segments, describeParseError(error));
  }
}
