// The configuration file's schema. It is JSON Schema (TypeBox), so the same object validates a
// file, yields `frontline schema` for editors, and gives the TypeScript type of a parsed file.
import Type from 'typebox';

/** A duration: an integer number of milliseconds, or a string such as "250ms", "10s", "5m", "1h". */
const Duration = (description: string, fallback: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$' })], {
    description: `${description} (milliseconds, or a string such as "500ms", "10s", "5m")`,
    default: fallback,
  });

/** A size: an integer number of bytes, or a string such as "16KiB", "1MiB", "10MB". */
const Size = (description: string, fallback: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(B|KB|KiB|MB|MiB|GB|GiB)$' })], {
    description: `${description} (bytes, or a string such as "16KiB", "1MiB")`,
    default: fallback,
  });

const Enum = <const T extends readonly string[]>(values: T, description: string, fallback?: T[number]) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    fallback === undefined ? { description } : { description, default: fallback },
  ) as unknown as Type.TUnion<Type.TLiteral<T[number]>[]>;

const Certificate = Type.Object(
  {
    server_names: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'SNI names this certificate serves; "*.example.com" matches one label. The first certificate is the default.',
    }),
    cert: Type.String({ minLength: 1, description: 'PEM certificate chain file' }),
    key: Type.String({ minLength: 1, description: 'PEM private key file' }),
  },
  { additionalProperties: false },
);

const Listener = Type.Object(
  {
    address: Type.String({ default: '127.0.0.1', description: 'IP address to listen on' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port (0 picks a free one)' }),
    tls: Type.Optional(
      Type.Object(
        { certificates: Type.Array(Certificate, { minItems: 1 }) },
        { additionalProperties: false, description: 'Terminate TLS on this listener' },
      ),
    ),
    http2: Type.Boolean({
      default: false,
      description: 'Offer HTTP/2: by ALPN on a TLS listener (HTTP/1.1 stays available), as cleartext h2c otherwise',
    }),
  },
  { additionalProperties: false },
);

const Server = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Origin base URL, e.g. http://10.0.0.5:8080' }),
    weight: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'Relative share of requests: used by weighted, least-connections (load per unit of weight) and consistent-hash (ring points)',
    }),
  },
  { additionalProperties: false },
);

export const BALANCE_POLICIES = ['round-robin', 'weighted', 'least-connections', 'consistent-hash', 'peak-ewma'] as const;

export const UpstreamSchema = Type.Object(
  {
    servers: Type.Array(Server, { minItems: 1 }),
    balance: Enum(BALANCE_POLICIES, 'How a request picks a server', 'round-robin'),
    hash_key: Type.String({
      default: 'client_ip',
      description:
        'Key for consistent-hash: "client_ip", "path", "uri", "host", "header:NAME" or "cookie:NAME"',
      pattern: '^(client_ip|path|uri|host|header:.+|cookie:.+)$',
    }),
    keepalive: Type.Object(
      {
        connections: Type.Integer({ minimum: 1, default: 64, description: 'Most open connections per server' }),
        idle_timeout: Duration('Close a pooled connection unused for this long', '60s'),
      },
      { additionalProperties: false, default: {} },
    ),
    timeouts: Type.Object(
      {
        connect: Duration('Give up connecting to a server after', '5s'),
        first_byte: Duration('Answer 504 when the response head takes longer than', '60s'),
        idle: Duration('Abort when the response body stalls longer than', '60s'),
      },
      { additionalProperties: false, default: {} },
    ),
    retries: Type.Integer({
      minimum: 0,
      default: 1,
      description: 'Extra attempts, each on another server, for idempotent requests whose connection failed',
    }),
    health: Type.Object(
      {
        passive: Type.Object(
          {
            max_fails: Type.Integer({ minimum: 1, default: 3, description: 'Consecutive failures that eject a server' }),
            eject_for: Duration('First ejection time; doubles on each re-ejection', '10s'),
            max_eject_for: Duration('Longest ejection time', '5m'),
          },
          { additionalProperties: false, default: {} },
        ),
        active: Type.Optional(
          Type.Object(
            {
              path: Type.String({ default: '/', description: 'Path probed with GET' }),
              interval: Duration('Time between probes', '5s'),
              timeout: Duration('Probe timeout', '2s'),
              healthy_after: Type.Integer({ minimum: 1, default: 2, description: 'Consecutive passes to re-admit' }),
              unhealthy_after: Type.Integer({ minimum: 1, default: 2, description: 'Consecutive failures to eject' }),
              expect_status: Type.String({ default: '200-399', pattern: '^[1-5][0-9]{2}(-[1-5][0-9]{2})?$' }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

const Route = Type.Object(
  {
    host: Type.Optional(
      Type.String({ description: 'Host to match: exact, or "*.example.com" for any subdomain; absent matches any' }),
    ),
    path: Type.String({ default: '/', pattern: '^/', description: 'Path prefix to match (longest prefix wins)' }),
    upstream: Type.String({ description: 'Name of an upstream in `upstreams`' }),
    host_header: Type.String({
      default: 'preserve',
      description: '"preserve" sends the client\'s Host upstream; any other value is sent instead',
    }),
    strip_prefix: Type.Boolean({ default: false, description: 'Remove the matched path prefix before proxying' }),
    plugins: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.Record(Type.String(), Type.Unknown())]), {
        description: 'Per-route plugin settings: false switches a plugin off here, an object overrides its options',
      }),
    ),
  },
  { additionalProperties: false },
);

const FirewallRule = Type.Object(
  {
    id: Type.String({ minLength: 1, description: 'Unique rule id: it names the rule in logs, metrics and skip actions' }),
    expression: Type.String({ description: 'A Wirefilter / Cloudflare Rules language expression over request fields' }),
    action: Enum(['block', 'allow', 'log', 'skip'] as const, 'What a match does: block answers, allow stops the rules, log records, skip skips later rules or phases'),
    description: Type.Optional(Type.String()),
    enabled: Type.Boolean({ default: true }),
    status: Type.Integer({ minimum: 400, maximum: 599, default: 403, description: 'block: the response status' }),
    body: Type.Optional(Type.String({ description: 'block: the response body (default: a short page naming the rule)' })),
    content_type: Type.String({ default: 'text/plain; charset=utf-8', description: 'block: the Content-Type of the body' }),
    skip: Type.Optional(
      Type.Object(
        {
          rules: Type.Array(Type.String(), { default: [], description: 'Ids of later rules to skip' }),
          remaining: Type.Boolean({ default: false, description: 'Skip every later firewall rule' }),
          phases: Type.Array(Enum(['waf'] as const, 'A later phase to skip'), { default: [] }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const RuleList = Type.Object(
  {
    type: Enum(['ip', 'int', 'bytes'] as const, 'What the list holds: IP addresses/CIDRs/ranges, integers/ranges, or strings'),
    items: Type.Array(Type.Union([Type.String(), Type.Integer()]), { default: [] }),
  },
  { additionalProperties: false },
);

const Firewall = Type.Object(
  {
    rules: Type.Array(FirewallRule, { default: [], description: 'Firewall rules, evaluated in order in the access phase' }),
    files: Type.Array(Type.String(), {
      default: [],
      description: 'YAML files (relative to this file) each holding a list of rules; they run after `rules`, in file order',
    }),
    lists: Type.Record(Type.String({ pattern: '^[a-z0-9_]([a-z0-9_.]*[a-z0-9_])?$' }), RuleList, {
      default: {},
      description: 'Named lists that expressions use as `$name`',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Waf = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    files: Type.Array(Type.String(), {
      default: [],
      description: 'SecLang files or globs (relative to this file), loaded in order; for CRS: its crs-setup.conf, then rules/*.conf',
    }),
    directives: Type.String({ default: '', description: 'SecLang loaded after `files` (exclusions, settings)' }),
    engine: Type.Optional(Enum(['On', 'Off', 'DetectionOnly'] as const, 'Overrides SecRuleEngine: block, do nothing, or log only')),
    paranoia_level: Type.Optional(Type.Integer({ minimum: 1, maximum: 4, description: "CRS: tx.blocking_paranoia_level (set before `files`; a crs-setup.conf that sets it wins)" })),
    inbound_anomaly_threshold: Type.Optional(Type.Integer({ minimum: 1, description: 'CRS: tx.inbound_anomaly_score_threshold' })),
    outbound_anomaly_threshold: Type.Optional(Type.Integer({ minimum: 1, description: 'CRS: tx.outbound_anomaly_score_threshold' })),
    block_status: Type.Integer({ minimum: 400, maximum: 599, default: 403, description: 'Status of a blocked request when the rule sets none' }),
    audit_log: Type.Optional(Type.String({ description: 'Path of the audit log (JSON lines); relative to this file' })),
    threads: Type.Integer({ minimum: 0, maximum: 64, default: 1, description: 'Threads per worker process that run phases 1-2; 0 runs them on the event loop' }),
    queue_limit: Type.Integer({ minimum: 0, default: 64, description: 'Requests waiting for a WAF thread before `overflow` applies' }),
    overflow: Enum(['fallback', 'reject'] as const, 'When the queue is full: run the WAF on the event loop, or answer 503', 'fallback'),
  },
  { additionalProperties: false, default: {} },
);

const HtmlFeatureCommon = {
  enabled: Type.Boolean({
    default: false,
    description: 'Apply on every route (a route switches it off with `plugins: { <feature>: false }`); false: only on routes that set `plugins: { <feature>: true }`',
  }),
  expression: Type.Optional(
    Type.String({ description: 'Apply only to requests matching this Wirefilter / Cloudflare Rules expression (the firewall\'s fields and lists)' }),
  ),
};

const Html = Type.Object(
  {
    max_memory: Size('Most bytes the HTML rewriter buffers for one response (an unfinished tag, comment or text); past it the rewrite fails', '1MiB'),
    email_obfuscation: Type.Object(
      { ...HtmlFeatureCommon },
      { additionalProperties: false, default: {}, description: 'Hide email addresses in HTML text and mailto: links from scrapers; a small script shows them to visitors' },
    ),
    https_rewrites: Type.Object(
      {
        ...HtmlFeatureCommon,
        hosts: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Hosts known to serve HTTPS: "example.com", or "*.example.com" for any subdomain',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Rewrite http:// URLs in src, href, action and srcset to https:// for the listed hosts' },
    ),
    html_injection: Type.Object(
      {
        ...HtmlFeatureCommon,
        snippets: Type.Array(
          Type.Object(
            {
              position: Enum(['head_end', 'body_end'] as const, 'Where: before </head> or before </body> (at the end of the document when there is none)'),
              html: Type.String({ minLength: 1, description: 'HTML inserted as it is, once per page' }),
            },
            { additionalProperties: false },
          ),
          { default: [] },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Insert HTML (a script, a banner) at the end of <head> or <body> of every page' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type FirewallRuleFile = Type.Static<typeof FirewallRule>;
export const FirewallRuleSchema = FirewallRule;

const Plugin = Type.Object(
  {
    module: Type.String({ description: 'Path of a TypeScript/JavaScript module (relative to this file) or a package name' }),
    options: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    workers: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 1, maximum: 256 })], {
      default: 'auto',
      description: '"auto" starts one worker per CPU this process may run on',
    }),
    distribution: Enum(
      ['reuseport', 'round-robin', 'shared'] as const,
      'How connections reach workers: per-worker SO_REUSEPORT sockets, handed out by the primary, or one shared accept queue',
      'reuseport',
    ),
    cpu_affinity: Enum(['auto', 'none'] as const, '"auto" pins worker i to CPU i mod the CPUs available', 'auto'),
    control_socket: Type.String({
      default: '',
      description: 'Unix socket for `frontline status/reload/stop`; empty means $XDG_RUNTIME_DIR or the temp dir',
    }),
    listeners: Type.Array(Listener, { minItems: 1 }),
    limits: Type.Object(
      {
        max_header_size: Size('Largest request head; larger gets 431', '16KiB'),
        max_body_size: Size('Largest request body; larger gets 413 (0: no limit)', '0B'),
        max_requests_per_connection: Type.Integer({ minimum: 0, default: 0, description: '0: no limit' }),
      },
      { additionalProperties: false, default: {} },
    ),
    timeouts: Type.Object(
      {
        header: Duration('Time allowed for the request head; 408 after', '10s'),
        request: Duration('Time allowed for the whole request (head and body); 408 after', '60s'),
        keepalive: Duration('Close an idle client connection after', '75s'),
        graceful_stop: Duration('How long a graceful stop waits for in-flight requests', '30s'),
      },
      { additionalProperties: false, default: {} },
    ),
    upstreams: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), UpstreamSchema),
    routes: Type.Array(Route, { minItems: 1 }),
    request_id: Type.Object(
      {
        header: Type.String({ default: 'x-request-id', description: 'Header carrying the request id upstream' }),
        trust_incoming: Type.Boolean({ default: false, description: 'Keep a well-formed id sent by the client' }),
      },
      { additionalProperties: false, default: {} },
    ),
    plugins: Type.Array(Plugin, { default: [] }),
    firewall: Firewall,
    waf: Waf,
    html: Html,
    logging: Type.Object(
      {
        level: Enum(['fatal', 'error', 'warn', 'info', 'debug'] as const, 'Level of the process log (stderr)', 'info'),
        access: Type.Object(
          {
            enabled: Type.Boolean({ default: true }),
            format: Enum(['json', 'combined'] as const, 'JSON lines, or nginx\'s combined format', 'json'),
            path: Type.String({ default: 'stdout', description: '"stdout" or a file path' }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        address: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9090 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, $id: 'https://frontline.dev/schema/config.json', title: 'frontline configuration' },
);

/** A configuration file as written (durations and sizes still in their written form). */
export type ConfigFile = Type.Static<typeof ConfigSchema>;

/**
 * The schema as an editor should see it: a key with a default may be left out of a file, so it
 * is not listed as required (validation fills defaults in before it checks).
 */
export function editorSchema(): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = strip(v);
    const props = out.properties as Record<string, { default?: unknown }> | undefined;
    if (Array.isArray(out.required) && props) {
      out.required = (out.required as string[]).filter((k) => props[k]?.default === undefined);
    }
    return out;
  };
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(strip(ConfigSchema) as Record<string, unknown>) };
}
