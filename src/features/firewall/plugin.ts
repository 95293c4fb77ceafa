// The firewall: the configured rule set, run in the access phase before anything reaches the
// origin. A block rule answers the request; allow stops the rules; log rules are recorded; skip
// rules switch off later rules or phases. Matches go to the access log (`rules`) and to a
// per-rule counter in the metrics.
import type { FirewallConfig } from '../../config/firewall.ts';
import type { WorkerMetrics } from '../../observability/metrics.ts';
import { ContextKey, type RequestContext } from '../../proxy/context.ts';
import type { Plugin, Reply } from '../../proxy/plugin.ts';
import { httpScheme } from '../../rules/http-scheme.ts';
import { compileLists } from '../../rules/lists.ts';
import { RuleSet, type Verdict } from '../../rules/ruleset.ts';
import { fieldExtractors } from './fields.ts';

/** The firewall's verdict for a request, for later phases (a WAF reads `skippedPhases`). */
export const FIREWALL_VERDICT = new ContextKey<Verdict>('firewall verdict');

export function firewallPlugin(config: FirewallConfig, metrics: WorkerMetrics | undefined): Plugin | undefined {
  if (config.rules.length === 0) return undefined;
  const rules = new RuleSet(httpScheme, config.rules);
  const extractors = fieldExtractors(httpScheme);
  // Evaluation is synchronous, so one context serves every request of this worker in turn.
  let request: RequestContext | undefined;
  const source = (field: { index: number }) => extractors[field.index](request!);
  const fields = rules.newContext({ source, lists: compileLists(config.lists) });
  const counters = metrics?.ruleCounters('firewall');
  return {
    name: 'firewall',
    access(ctx): Reply | void {
      request = ctx;
      fields.reset(source);
      const verdict = rules.evaluate(fields);
      request = undefined;
      if (verdict.matchCount === 0) return;
      ctx.set(FIREWALL_VERDICT, verdict);
      const matched = (ctx.matchedRules ??= []);
      for (const rule of verdict.matched) {
        matched.push(`firewall:${rule.id}`);
        counters?.matched(rule.id, rule.action.type);
      }
      const action = verdict.terminal?.action;
      if (action?.type !== 'block') return;
      ctx.answeredBy = `firewall:${verdict.terminal!.id}`;
      return { status: action.status, headers: { 'content-type': action.contentType, 'cache-control': 'no-store' }, body: action.body };
    },
  };
}
