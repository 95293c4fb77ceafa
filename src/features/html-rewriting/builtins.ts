// The built-in HTML features a configuration switches on, as plugins in the order their
// handlers run on a page: email obfuscation, HTTPS rewrites, HTML injection.
import type { Logger } from 'pino';
import { featureUsed, type HtmlConfig } from '../../config/html.ts';
import type { Plugin } from '../../proxy/plugin.ts';
import { compileLists, type ListDefinition } from '../../rules/lists.ts';
import { emailObfuscationPlugin } from '../email-obfuscation/plugin.ts';
import { htmlInjectionPlugin } from '../html-injection/plugin.ts';
import { httpsRewritesPlugin } from '../https-rewrites/plugin.ts';

export function htmlFeaturePlugins(config: HtmlConfig, lists: ReadonlyMap<string, ListDefinition>, log: Logger): Plugin[] {
  const deps = { maxMemory: config.maxMemory, lists: compileLists(lists), log };
  const plugins: Plugin[] = [];
  if (featureUsed(config.emailObfuscation)) plugins.push(emailObfuscationPlugin(config.emailObfuscation, deps));
  if (featureUsed(config.httpsRewrites)) plugins.push(httpsRewritesPlugin(config.httpsRewrites, deps));
  if (featureUsed(config.htmlInjection)) plugins.push(htmlInjectionPlugin(config.htmlInjection, deps));
  return plugins;
}
