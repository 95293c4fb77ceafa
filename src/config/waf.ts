// The `waf:` section: SecLang files (CRS or others), settings that override theirs, and the audit
// log. The rules are loaded here, when a configuration is loaded or reloaded, so a file that does
// not load rejects the configuration with its file, line and reason, and the running
// configuration stays in force. Workers load the same files again from the resolved paths.
import { isAbsolute, resolve } from 'node:path';
import { parseDirectives, readDirectiveFiles, SecLangError, type Directive } from '../waf/seclang/directives.ts';
import { WafRuleSet } from '../waf/ruleset.ts';
import type { ConfigFile } from './schema.ts';

export interface WafConfig {
  readonly enabled: boolean;
  /** Absolute paths or globs. */
  readonly files: readonly string[];
  /** SecLang generated from the settings, loaded before the files (CRS variables). */
  readonly prelude: string;
  /** SecLang loaded after the files: `directives`, then the settings that override the files'. */
  readonly epilogue: string;
  readonly blockStatus: number;
  readonly auditLog: string | undefined;
  readonly threads: number;
  readonly queueLimit: number;
  readonly overflow: 'fallback' | 'reject';
}

type Problem = (segments: (string | number)[], message: string, at?: { file: string; line?: number }) => void;

export function resolveWaf(section: ConfigFile['waf'], baseDir: string, problem: Problem): WafConfig {
  const prelude: string[] = [];
  // CRS reads these in REQUEST-901 and keeps a value already set; ids from CRS's setup range are avoided.
  const setvar = (id: number, name: string, value: number) => prelude.push(`SecAction "id:${id},phase:1,pass,nolog,t:none,setvar:tx.${name}=${value}"`);
  if (section.paranoia_level !== undefined) setvar(9_990_001, 'blocking_paranoia_level', section.paranoia_level);
  if (section.inbound_anomaly_threshold !== undefined) setvar(9_990_002, 'inbound_anomaly_score_threshold', section.inbound_anomaly_threshold);
  if (section.outbound_anomaly_threshold !== undefined) setvar(9_990_003, 'outbound_anomaly_score_threshold', section.outbound_anomaly_threshold);
  const epilogue = [section.directives];
  if (section.engine !== undefined) epilogue.push(`SecRuleEngine ${section.engine}`);
  const config: WafConfig = {
    enabled: section.enabled,
    files: section.files.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f))),
    prelude: prelude.join('\n'),
    epilogue: epilogue.join('\n'),
    blockStatus: section.block_status,
    auditLog: section.audit_log === undefined ? undefined : isAbsolute(section.audit_log) ? section.audit_log : resolve(baseDir, section.audit_log),
    threads: section.threads,
    queueLimit: section.queue_limit,
    overflow: section.overflow,
  };
  if (!config.enabled) return config;
  if (config.files.length === 0 && section.directives.trim() === '') problem(['waf', 'files'], 'the WAF is enabled but has no rules: list SecLang files (e.g. CRS) or write `directives`');
  try {
    loadWafRules(config);
  } catch (error) {
    if (!(error instanceof SecLangError)) throw error;
    const inline = error.file === INLINE;
    problem(['waf', inline ? 'directives' : 'files'], `${inline ? `line ${error.line} of waf.directives` : `${error.file}:${error.line}`}: ${error.reason}`, inline ? undefined : { file: error.file, line: error.line });
  }
  return config;
}

const INLINE = 'waf.directives';
const PRELUDE = 'waf settings';

/** Loads the rule set the section describes (throws SecLangError). */
export function loadWafRules(config: WafConfig): WafRuleSet {
  const directives: Directive[] = parseDirectives(config.prelude, PRELUDE);
  directives.push(...readDirectiveFiles(config.files));
  parseDirectives(config.epilogue, INLINE, directives);
  return WafRuleSet.fromDirectives(directives);
}
