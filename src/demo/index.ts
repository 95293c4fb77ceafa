// `frontline demo` (what `npm start` runs): the embedded default — the demo origin, and frontline
// in front of it on 127.0.0.1:8080 with metrics on 127.0.0.1:9090. Capabilities are switched on
// here as they land, so the demo always shows everything frontline does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { runPrimary } from '../process/primary.ts';
import { startDemoOrigin } from './origin.ts';

export interface DemoOptions {
  readonly listen?: { readonly address?: string; readonly port: number };
  readonly metrics?: { readonly address?: string; readonly port: number };
  /** The control socket's path (default: the usual per-user one). */
  readonly socket?: string;
}

const DEMO_LISTEN = { address: '127.0.0.1', port: 8080 };
const DEMO_METRICS = { address: '127.0.0.1', port: 9090 };

/**
 * The demo's WAF rules: the OWASP Core Rule Set from the directory in FRONTLINE_CRS (its
 * crs-setup.conf, or the .example, then rules/*.conf), else frontline's starter rules.
 */
export function demoWafFiles(crs = process.env.FRONTLINE_CRS): { files: string[]; description: string } {
  if (crs !== undefined && crs !== '') {
    const setup = existsSync(join(crs, 'crs-setup.conf')) ? join(crs, 'crs-setup.conf') : join(crs, 'crs-setup.conf.example');
    return { files: [fileURLToPath(new URL('./waf-crs-base.conf', import.meta.url)), setup, join(crs, 'rules', '*.conf')], description: `OWASP CRS from ${crs}` };
  }
  return { files: [fileURLToPath(new URL('./waf-starter.conf', import.meta.url))], description: 'starter rules (set FRONTLINE_CRS to a CRS directory for the Core Rule Set)' };
}

/** Injected at the end of every demo page: shows that the page went through the HTML features. */
const DEMO_SNIPPET =
  '<p style="font-size:.85em;color:#555;border-top:1px solid #ddd;padding-top:.5em">' +
  'Rewritten on its way through frontline: email addresses obfuscated (view the source), ' +
  'http://example.com links upgraded to https, and this note injected.</p>';

/** The embedded default configuration, for an origin at `originUrl`. */
export function demoConfig(originUrl: string, options: DemoOptions = {}): Config {
  return validateConfig(
    {
      workers: 'auto',
      listeners: [{ ...DEMO_LISTEN, ...options.listen }],
      ...(options.socket === undefined ? {} : { control_socket: options.socket }),
      upstreams: {
        demo: {
          servers: [{ url: originUrl }],
          health: { active: { path: '/healthz', interval: '5s' } },
        },
      },
      routes: [{ path: '/', upstream: 'demo' }],
      firewall: {
        rules: [
          {
            id: 'block-probes',
            description: 'Scanners probing for admin panels and leaked secrets',
            expression: 'lower(http.request.uri.path) matches "^/(wp-admin|wp-login\\.php|\\.env|\\.git/)" or http.request.uri.path.extension in {"bak" "sql"}',
            action: 'block',
          },
          {
            id: 'block-scanners',
            description: 'Known attack tools by User-Agent',
            expression: 'any(lower(http.request.headers["user-agent"][*])[*] contains "sqlmap") or lower(http.user_agent) contains "nikto"',
            action: 'block',
          },
          {
            id: 'log-api-writes',
            description: 'Record writes to the API',
            expression: 'starts_with(http.request.uri.path, "/api/") and not http.request.method in {"GET" "HEAD" "OPTIONS"}',
            action: 'log',
          },
        ],
      },
      waf: { enabled: true, files: demoWafFiles().files },
      // The demo origin's pages carry an email address and http://example.com links.
      html: {
        email_obfuscation: { enabled: true },
        https_rewrites: { enabled: true, hosts: ['example.com', '*.example.com'] },
        html_injection: {
          enabled: true,
          snippets: [{ position: 'body_end', html: DEMO_SNIPPET }],
        },
      },
      logging: { access: { format: 'combined' } },
      metrics: { ...DEMO_METRICS, ...options.metrics },
    },
    'embedded demo configuration',
    process.cwd(),
  );
}

export async function startDemo(options: DemoOptions = {}): Promise<void> {
  const origin = await startDemoOrigin();
  const config = demoConfig(origin.url, options);
  const listen = config.listeners[0];
  const proxy = `http://${listen.address}:${listen.port}`;
  try {
    await runPrimary({
      config,
      load: () => config,
      onReady: (controlSocket) =>
        process.stdout.write(
          `\nfrontline demo is running\n` +
            `  proxy:        ${proxy}/  (try ${proxy}/contact and ${proxy}/api/echo)\n` +
            `  firewall:     3 rules; ${proxy}/wp-admin/ is blocked (403)\n` +
            `  waf:          ${demoWafFiles().description}; ${proxy}/?q=1'%20or%201=1-- is blocked (403)\n` +
            `  html:         email obfuscation, HTTPS rewrites and a note injected on every page; compare ${proxy}/contact with ${origin.url}/contact\n` +
            `  demo origin:  ${origin.url}\n` +
            `  metrics:      http://${config.metrics.address}:${config.metrics.port}/metrics\n` +
            `  status:       npx frontline status --socket ${controlSocket}\n` +
            `Stop it with Ctrl-C (or: npx frontline stop --socket ${controlSocket}).\n` +
            `Access log lines follow (nginx combined format).\n\n`,
        ),
    });
  } finally {
    await origin.close();
  }
}
