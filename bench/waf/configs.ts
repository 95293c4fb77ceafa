// Configuration files of the WAF benchmark, written into the run's temp dir. They start from
// bench/proxy's (the same origin, the same nginx and frontline settings) and add the WAF: for
// nginx, the ModSecurity connector with libmodsecurity3; for frontline, its `waf:` section. Both
// engines load the same SecLang: frontline's CRS base (src/demo/waf-crs-base.conf, ModSecurity's
// recommended engine settings), the bench settings below, CRS's crs-setup.conf.example and
// rules/*.conf, with tx.blocking_paranoia_level set before them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { frontlineConfig, writeNginxProxyConfig, writeOriginConfig } from '../proxy/configs.ts';
import { ORIGIN_FILES, ORIGIN_LOCATIONS } from './workloads.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** frontline's engine base for CRS (SecRuleEngine On, SecRequestBodyAccess On, rules 200000-200002). */
export const CRS_BASE = join(ROOT, 'src/demo/waf-crs-base.conf');

/** Where Debian's libnginx-mod-http-modsecurity puts the connector (see install.sh). */
export const MODSEC_MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';

/**
 * Settings both engines get after the base, spelled out although both default to them: no audit
 * log (ModSecurity would write one line per blocked request; frontline's `audit_log` is unset),
 * no debug log, no response body inspection (the origin's bodies are not what is measured).
 */
export const BENCH_SETTINGS = `SecAuditEngine Off
SecResponseBodyAccess Off
`;

/** The rule files of CRS in `crs`, in the order both engines load them. */
export function crsFiles(crs: string): string[] {
  return [join(crs, 'crs-setup.conf.example'), join(crs, 'rules', '*.conf')];
}

/** Replaces `anchor` (which must occur exactly once) in `text` with `replacement`. */
function replaceOnce(text: string, anchor: string, replacement: string, what: string): string {
  const at = text.indexOf(anchor);
  if (at < 0 || text.indexOf(anchor, at + 1) >= 0) throw new Error(`${what}: bench/proxy's config changed shape (looked for ${JSON.stringify(anchor)})`);
  return text.slice(0, at) + replacement + text.slice(at + anchor.length);
}

/**
 * bench/proxy's nginx origin, plus the pages of the WAF workloads: the 1 KB page the GET asks for
 * (a static file) and a location that answers the form POST with 200 (nginx would answer a POST to
 * a static file with 405; `return` reads and discards the body, keeping the connection).
 */
export function writeWafOriginConfig(dir: string, port: number): string {
  const file = writeOriginConfig(dir, port);
  for (const [name, content] of Object.entries(ORIGIN_FILES)) writeFileSync(join(dir, 'www', name), content);
  const text = replaceOnce(readFileSync(file, 'utf8'), '        location / { }\n', `${ORIGIN_LOCATIONS}        location / { }\n`, 'origin');
  writeFileSync(file, text);
  return file;
}

/** The SecLang libmodsecurity loads (`modsecurity_rules_file`) at paranoia level `pl`. */
export function writeModsecRules(dir: string, crs: string, pl: number): string {
  const text = `# ModSecurity rules for bench/waf (generated): the same SecLang as frontline's, CRS at PL ${pl}
# What frontline's paranoia_level setting generates, before the files:
SecAction "id:9990001,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level=${pl}"
Include ${CRS_BASE}
${BENCH_SETTINGS}${crsFiles(crs)
    .map((f) => `Include ${f}`)
    .join('\n')}
`;
  const file = join(dir, `modsec-pl${pl}.conf`);
  writeFileSync(file, text);
  return file;
}

/**
 * nginx as in bench/proxy (1 worker, upstream keepalive 64, access log to a file), in its own
 * directory `dir` (pid file, logs, temp paths); with `modsecRules`, the ModSecurity connector
 * loaded and on for the server (`modsecurity on; modsecurity_rules_file ...`), and the server's
 * error log at level info in `modsec.log`: the connector logs a rule that matched without blocking
 * at info (below bench/proxy's `warn`), and the harness reads them to check that the benign
 * requests match no rule. A request that matches nothing writes nothing there.
 */
export function writeNginxConfig(
  dir: string,
  port: number,
  originPort: number,
  modsecRules: string | undefined,
): { file: string; errorLog: string; accessLog: string; modsecLog: string | undefined } {
  mkdirSync(dir, { recursive: true });
  const file = writeNginxProxyConfig(dir, port, originPort, true);
  if (modsecRules !== undefined) {
    let text = readFileSync(file, 'utf8');
    text = `load_module ${MODSEC_MODULE};\n${text}`;
    text = replaceOnce(
      text,
      `        listen 127.0.0.1:${port};\n`,
      `        listen 127.0.0.1:${port};\n        modsecurity on;\n        modsecurity_rules_file ${modsecRules};\n        error_log ${join(dir, 'modsec.log')} info;\n`,
      'nginx',
    );
    writeFileSync(file, text);
  }
  return { file, errorLog: join(dir, 'nginx-error.log'), accessLog: join(dir, 'nginx-access.log'), modsecLog: modsecRules === undefined ? undefined : join(dir, 'modsec.log') };
}

export interface FrontlineWaf {
  enabled: boolean;
  paranoiaLevel: number;
  threads: number;
}

/**
 * bench/proxy's frontline configuration (workers: 1, cpu_affinity: none, access log to a file,
 * metrics on) with a `waf:` section: the same files as ModSecurity's, `paranoia_level`, `threads`.
 * The row without the WAF has the same section with `enabled: false`.
 */
export function writeFrontlineConfig(
  dir: string,
  o: { name: string; port: number; metricsPort: number; originPort: number; crs: string; waf: FrontlineWaf },
): { file: string; accessLog: string; controlSocket: string } {
  const cfg = frontlineConfig(dir, { name: o.name, workers: 1, distribution: 'reuseport', port: o.port, metricsPort: o.metricsPort, originPort: o.originPort });
  const config = parse(cfg.text) as Record<string, unknown>;
  config.waf = {
    enabled: o.waf.enabled,
    files: [CRS_BASE, ...crsFiles(o.crs)],
    directives: BENCH_SETTINGS,
    paranoia_level: o.waf.paranoiaLevel,
    threads: o.waf.threads,
  };
  writeFileSync(cfg.file, `# ${o.name} for bench/waf (generated from bench/proxy's)\n${stringify(config)}`);
  return { file: cfg.file, accessLog: cfg.accessLog, controlSocket: cfg.controlSocket };
}
