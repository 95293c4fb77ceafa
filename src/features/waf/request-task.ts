// The WAF's pool task: phases 1–2 of one request, on a pool thread (or on the event loop when the
// pool runs it inline). Each thread compiles the rule set once; the event loop shares its own copy
// with the inline handler. The answer is the transaction's state, from which the event loop runs
// the response phases — or, when the task ran on the event loop itself, the live transaction
// (nothing to copy, nothing to rebuild).
import { readFile } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { loadWafRules, type WafConfig } from '../../config/waf.ts';
import type { TaskInit } from '../../pool/task-module.ts';
import type { WafRuleSet } from '../../waf/ruleset.ts';
import { Transaction, type TransactionState, type WafRequest } from '../../waf/transaction.ts';

export interface RequestTask {
  readonly request: WafRequest;
  /** The body read for inspection (binary string), when small. */
  readonly body?: string;
  /** A temp file holding it, when large. */
  readonly bodyPath?: string;
}

const loaded = new WeakMap<WafConfig, WafRuleSet>();

/** The compiled rules of a configuration, once per thread (the same object on the event loop for the plugin and the inline handler). */
export function wafRules(config: WafConfig): WafRuleSet {
  let rules = loaded.get(config);
  if (rules === undefined) {
    rules = loadWafRules(config);
    loaded.set(config, rules);
  }
  return rules;
}

/** Phases 1 and 2: the transaction on the event loop, its state on a pool thread. */
function runRequestPhases(rules: WafRuleSet, config: WafConfig, request: WafRequest, body: string | undefined): Transaction | TransactionState {
  const tx = new Transaction(rules, request, { blockStatus: config.blockStatus });
  if (tx.processRequestHeaders() === undefined) tx.processRequestBody(body);
  return isMainThread ? tx : tx.snapshot();
}

const init: TaskInit<WafConfig, RequestTask, Transaction | TransactionState> = (config) => {
  const rules = wafRules(config);
  return async (task) => {
    const body = task.bodyPath !== undefined ? (await readFile(task.bodyPath)).toString('latin1') : task.body;
    return runRequestPhases(rules, config, task.request, body);
  };
};

export default init;
