// Loading a configuration: YAML text → schema check (errors carry the YAML path, line and column)
// → defaults → cross-checks → the resolved `Config`. A file that fails any step is rejected whole.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Value } from 'typebox/value';
import { LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { normalizePath } from '../proxy/normalize-path.ts';
import { resolveFirewall } from './firewall.ts';
import { HTML_FEATURES, resolveHtml } from './html.ts';
import { resolveWaf } from './waf.ts';
import { ConfigSchema, UpstreamSchema, type ConfigFile } from './schema.ts';
import type { Config, ListenerConfig, RouteConfig, UpstreamConfig } from './types.ts';

export interface ConfigProblem {
  /** The file the problem is in, when it is not the configuration file itself (a rule file). */
  file?: string;
  /** Path inside the document, e.g. "upstreams.app.servers[0].url". */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export class ConfigError extends Error {
  readonly source: string;
  readonly problems: ConfigProblem[];
  constructor(source: string, problems: ConfigProblem[]) {
    super(
      `invalid configuration ${source}:\n` +
        problems
          .map((p) => `  ${p.file ?? source}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.path || '(top level)'}: ${p.message}`)
          .join('\n'),
    );
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

type Locate = (segments: (string | number)[]) => { line?: number; column?: number };

/** Where in its YAML text each configuration came from, for problems found after loading (check.ts). */
const locators = new WeakMap<Config, Locate>();

/** The line and column of a key of `config`'s file, when it was read from YAML. */
export function configLocation(config: Config, segments: (string | number)[]): { line?: number; column?: number } {
  return locators.get(config)?.(segments) ?? {};
}

/** Reads and resolves a configuration file. Throws ConfigError naming every problem found. */
export function loadConfigFile(file: string): Config {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, path, dirname(path));
}

/** Parses YAML configuration text. `baseDir` anchors relative paths (certificates, plugins). */
export function parseConfigText(text: string, source: string, baseDir: string): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return { path: '', line: at.line, column: at.col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const locate = (segments: (string | number)[]): { line?: number; column?: number } => {
    // The deepest node that exists on the path: a missing key is reported where its parent is.
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true) as YamlNode | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        const at = lines.linePos(node.range[0]);
        return { line: at.line, column: at.col };
      }
      if (n === 0) break;
    }
    return {};
  };
  const config = validateConfig(doc.toJS() ?? {}, source, baseDir, locate);
  locators.set(config, locate);
  return config;
}

/** Validates a plain object (parsed YAML, or built in code) and resolves it. */
export function validateConfig(raw: unknown, source: string, baseDir: string, locate: Locate = () => ({})): Config {
  // Defaults first so that keys with a default never report as missing.
  const candidate = withDefaults(raw);
  const problems = schemaProblems(candidate, locate);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return resolveConfig(candidate as ConfigFile, source, baseDir, locate);
}

function withDefaults(raw: unknown): unknown {
  const copy = Value.Default(ConfigSchema, structuredClone(raw)) as Record<string, unknown>;
  // Value.Default does not descend into records: fill each upstream on its own.
  const ups = copy.upstreams;
  if (ups && typeof ups === 'object' && !Array.isArray(ups)) {
    for (const [k, v] of Object.entries(ups)) (ups as Record<string, unknown>)[k] = Value.Default(UpstreamSchema, v);
  }
  return copy;
}

interface SchemaError {
  keyword: string;
  message: string;
  params: Record<string, unknown>;
  schemaPath: string;
}

function schemaProblems(candidate: unknown, locate: Locate): ConfigProblem[] {
  const errors = [...Value.Errors(ConfigSchema, candidate)];
  if (errors.length === 0) return [];
  const byPath = new Map<string, SchemaError[]>();
  for (const e of errors) {
    if (e.keyword === 'boolean') continue; // repeats the additionalProperties error
    const list = byPath.get(e.instancePath) ?? [];
    list.push({ keyword: e.keyword, message: e.message, params: e.params as Record<string, unknown>, schemaPath: e.schemaPath });
    byPath.set(e.instancePath, list);
  }
  const paths = [...byPath.keys()];
  const problems: ConfigProblem[] = [];
  for (const [pointer, list] of byPath) {
    const segments = pointer
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const union = list.find((e) => e.keyword === 'anyOf');
    // A failed union also reports each branch's error; say it once, unless a deeper path explains it.
    let kept = union ? [union] : list;
    if (union && paths.some((p) => p !== pointer && p.startsWith(pointer + '/'))) kept = [];
    for (const e of kept) {
      problems.push({ path: formatPath(segments), ...locate(segments), message: explain(e, pointer) });
    }
  }
  return problems;
}

function explain(e: SchemaError, pointer: string): string {
  const schema = schemaAt(pointer);
  switch (e.keyword) {
    case 'additionalProperties': {
      const keys = (e.params.additionalProperties as string[] | undefined) ?? [];
      const known = schema && typeof schema.properties === 'object' ? Object.keys(schema.properties as object) : [];
      return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}` +
        (known.length ? ` (known keys: ${known.join(', ')})` : '');
    }
    case 'required':
      return `missing required key${((e.params.requiredProperties as string[]) ?? []).length > 1 ? 's' : ''} ${(
        (e.params.requiredProperties as string[]) ?? []
      )
        .map((k) => `"${k}"`)
        .join(', ')}`;
    case 'anyOf': {
      const consts = ((schema?.anyOf as Record<string, unknown>[] | undefined) ?? []).every((b) => 'const' in b);
      const what = typeof schema?.description === 'string' ? ` (${schema.description})` : '';
      return consts ? `invalid value: expected one of ${describeUnion(schema)}${what}` : `invalid value${what}`;
    }
    default:
      return schema && typeof schema.description === 'string' ? `${e.message} (${schema.description})` : e.message;
  }
}

function describeUnion(schema: Record<string, unknown> | undefined): string {
  const branches = (schema?.anyOf as Record<string, unknown>[] | undefined) ?? [];
  return branches.map((b) => JSON.stringify(b.const)).join(', ');
}

/** The sub-schema that validates the value at a JSON pointer (enough of JSON Schema for our schema). */
function schemaAt(pointer: string): Record<string, unknown> | undefined {
  let s: Record<string, unknown> | undefined = ConfigSchema as unknown as Record<string, unknown>;
  for (const seg of pointer.split('/').slice(1)) {
    if (!s) return undefined;
    if (Array.isArray(s.anyOf)) s = (s.anyOf as Record<string, unknown>[]).find((b) => b.type === 'object' || b.type === 'array') ?? s;
    if (s.type === 'array') s = s.items as Record<string, unknown>;
    else if (s.properties && (s.properties as Record<string, unknown>)[seg])
      s = (s.properties as Record<string, Record<string, unknown>>)[seg];
    else if (s.patternProperties) s = Object.values(s.patternProperties as Record<string, Record<string, unknown>>)[0];
    else if (s.additionalProperties && typeof s.additionalProperties === 'object')
      s = s.additionalProperties as Record<string, unknown>;
    else return undefined;
  }
  return s;
}

/** ["routes", 0, "path"] → "routes[0].path". */
export function formatPath(segments: (string | number)[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  B: 1, KB: 1000, KiB: 1024, MB: 1e6, MiB: 1 << 20, GB: 1e9, GiB: 1 << 30,
};

/** "10s" → 10000; integers are milliseconds already. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]]);
}

/** "16KiB" → 16384; integers are bytes already. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(B|KB|KiB|MB|MiB|GB|GiB)$/.exec(value);
  if (!m) throw new Error(`not a size: ${value}`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]]);
}

/** Built-in features a route can switch on or off by name in its `plugins`, and where their settings are. */
const BUILTIN_FEATURES = new Map<string, string>([
  ['firewall', 'firewall'],
  ['waf', 'waf'],
  ...HTML_FEATURES.map((name): [string, string] => [name, `html.${name}`]),
]);

function resolveConfig(file: ConfigFile, source: string, baseDir: string, locate: Locate): Config {
  const problems: ConfigProblem[] = [];
  const problem = (segments: (string | number)[], message: string) =>
    problems.push({ path: formatPath(segments), ...locate(segments), message });
  const fromBase = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const firewall = resolveFirewall(file.firewall, baseDir, (segments, message, at) =>
    problems.push(at === undefined ? { path: formatPath(segments), ...locate(segments), message } : { file: at.file, path: formatPath(segments.slice(1)), line: at.line, column: at.column, message }),
  );

  const waf = resolveWaf(file.waf, baseDir, (segments, message, at) =>
    problems.push(at === undefined ? { path: formatPath(segments), ...locate(segments), message } : { file: at.file, path: formatPath(segments), line: at.line, message }),
  );

  const html = resolveHtml(file.html, file.routes, firewall.lists, parseSize(file.html.max_memory), problem);

  const upstreams = new Map<string, UpstreamConfig>();
  for (const [name, u] of Object.entries(file.upstreams)) {
    u.servers.forEach((s, i) => {
      try {
        const url = new URL(s.url);
        if (url.pathname !== '/' || url.search) problem(['upstreams', name, 'servers', i, 'url'], 'a server URL has no path or query; use a route with strip_prefix or a plugin to rewrite paths');
      } catch {
        problem(['upstreams', name, 'servers', i, 'url'], `not a valid URL: ${s.url}`);
      }
    });
    const active = u.health.active;
    let expect: [number, number] = [200, 399];
    if (active) {
      const [lo, hi = lo] = active.expect_status.split('-').map(Number);
      if (lo > hi) problem(['upstreams', name, 'health', 'active', 'expect_status'], `range ${active.expect_status} is empty`);
      expect = [lo, hi];
    }
    upstreams.set(name, {
      name,
      servers: u.servers.map((s) => ({ url: new URL(s.url).origin, weight: s.weight })),
      balance: u.balance,
      hashKey: u.hash_key,
      keepalive: { connections: u.keepalive.connections, idleTimeoutMs: parseDuration(u.keepalive.idle_timeout) },
      timeouts: {
        connectMs: parseDuration(u.timeouts.connect),
        firstByteMs: parseDuration(u.timeouts.first_byte),
        idleMs: parseDuration(u.timeouts.idle),
      },
      retries: u.retries,
      health: {
        passive: {
          maxFails: u.health.passive.max_fails,
          ejectForMs: parseDuration(u.health.passive.eject_for),
          maxEjectForMs: parseDuration(u.health.passive.max_eject_for),
        },
        active: active && {
          path: active.path,
          intervalMs: parseDuration(active.interval),
          timeoutMs: parseDuration(active.timeout),
          healthyAfter: active.healthy_after,
          unhealthyAfter: active.unhealthy_after,
          expectStatus: expect,
        },
      },
    });
  }

  const pluginNames = new Set<string>();
  const plugins = file.plugins.map((p) => {
    const module = p.module.startsWith('.') || isAbsolute(p.module) ? fromBase(p.module) : p.module;
    pluginNames.add(p.module);
    return { name: p.module, module, options: p.options };
  });

  const routeKeys = new Map<string, number>();
  const routes: RouteConfig[] = file.routes.map((r, i) => {
    const normal = normalizePath(r.path);
    if (normal !== r.path) {
      problem(['routes', i, 'path'], `requests are matched by their normalised path, which is never "${r.path}"; write "${normal}"`);
    }
    const host = r.host === undefined || r.host === '*' ? '*' : r.host.toLowerCase();
    const key = `${host} ${r.path}`;
    const first = routeKeys.get(key);
    if (first === undefined) routeKeys.set(key, i);
    else problem(['routes', i], `same host and path as routes[${first}] (host ${host === '*' ? 'any' : `"${host}"`}, path "${r.path}"): only the first could ever match`);
    if (!upstreams.has(r.upstream)) {
      problem(['routes', i, 'upstream'], `no upstream named "${r.upstream}" (defined: ${[...upstreams.keys()].join(', ') || 'none'})`);
    }
    for (const [name, setting] of Object.entries(r.plugins ?? {})) {
      const section = BUILTIN_FEATURES.get(name);
      if (section !== undefined) {
        if (setting !== false && setting !== true) problem(['routes', i, 'plugins', name], `the built-in ${name} is switched on or off per route (true or false); its settings are in the top-level "${section}" section`);
        continue;
      }
      if (!pluginNames.has(name)) problem(['routes', i, 'plugins', name], `no plugin with module "${name}" in the top-level plugins list (built-in features: ${[...BUILTIN_FEATURES.keys()].join(', ')})`);
    }
    return {
      host: r.host?.toLowerCase(),
      path: r.path,
      upstream: r.upstream,
      hostHeader: r.host_header,
      stripPrefix: r.strip_prefix,
      plugins: r.plugins ?? {},
    };
  });

  const seen = new Set<string>();
  const listeners: ListenerConfig[] = file.listeners.map((l, i) => {
    const key = `${l.address}:${l.port}`;
    if (l.port !== 0 && seen.has(key)) problem(['listeners', i], `${key} is listed twice`);
    seen.add(key);
    return {
      address: l.address,
      port: l.port,
      http2: l.http2,
      tls: l.tls && {
        certificates: l.tls.certificates.map((c) => ({
          serverNames: c.server_names.map((n) => n.toLowerCase()),
          certFile: fromBase(c.cert),
          keyFile: fromBase(c.key),
        })),
      },
    };
  });

  if (problems.length > 0) throw new ConfigError(source, problems);
  return {
    source,
    // The CPUs this process may run on (its affinity mask), not every CPU of the machine.
    workers: file.workers === 'auto' ? availableParallelism() : file.workers,
    distribution: file.distribution,
    cpuAffinity: file.cpu_affinity === 'auto',
    controlSocket: file.control_socket,
    listeners,
    limits: {
      maxHeaderSize: parseSize(file.limits.max_header_size),
      maxBodySize: parseSize(file.limits.max_body_size),
      maxRequestsPerConnection: file.limits.max_requests_per_connection,
    },
    timeouts: {
      headerMs: parseDuration(file.timeouts.header),
      requestMs: parseDuration(file.timeouts.request),
      keepaliveMs: parseDuration(file.timeouts.keepalive),
      gracefulStopMs: parseDuration(file.timeouts.graceful_stop),
    },
    upstreams,
    routes,
    requestId: { header: file.request_id.header.toLowerCase(), trustIncoming: file.request_id.trust_incoming },
    plugins,
    firewall,
    waf,
    html,
    logging: { level: file.logging.level, access: { ...file.logging.access } },
    metrics: { ...file.metrics },
  };
}

