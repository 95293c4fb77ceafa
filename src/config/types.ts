// The resolved configuration the rest of frontline reads: defaults filled in, durations in
// milliseconds, sizes in bytes, names cross-checked. Produced only by `resolveConfig`.
import type { FirewallConfig } from './firewall.ts';
import type { HtmlConfig } from './html.ts';
import type { WafConfig } from './waf.ts';
import type { BALANCE_POLICIES } from './schema.ts';

export type BalancePolicy = (typeof BALANCE_POLICIES)[number];
export type Distribution = 'reuseport' | 'round-robin' | 'shared';

export interface CertificateConfig {
  serverNames: string[];
  certFile: string;
  keyFile: string;
}

export interface ListenerConfig {
  address: string;
  port: number;
  tls?: { certificates: CertificateConfig[] };
  http2: boolean;
}

export interface ServerConfig {
  url: string;
  weight: number;
}

export interface ActiveHealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyAfter: number;
  unhealthyAfter: number;
  expectStatus: [number, number];
}

export interface UpstreamConfig {
  name: string;
  servers: ServerConfig[];
  balance: BalancePolicy;
  hashKey: string;
  keepalive: { connections: number; idleTimeoutMs: number };
  timeouts: { connectMs: number; firstByteMs: number; idleMs: number };
  retries: number;
  health: {
    passive: { maxFails: number; ejectForMs: number; maxEjectForMs: number };
    active?: ActiveHealthConfig;
  };
}

export interface RouteConfig {
  host?: string;
  path: string;
  upstream: string;
  hostHeader: string;
  stripPrefix: boolean;
  plugins: Record<string, boolean | Record<string, unknown>>;
}

export interface PluginConfig {
  /** The module as written in the file: routes name the plugin by it. */
  name: string;
  /** Resolved module specifier: an absolute file path or a package name. */
  module: string;
  options: Record<string, unknown>;
}

export interface Config {
  /** Where this configuration came from: a file path, or a description such as "embedded demo". */
  source: string;
  workers: number;
  distribution: Distribution;
  cpuAffinity: boolean;
  controlSocket: string;
  listeners: ListenerConfig[];
  limits: { maxHeaderSize: number; maxBodySize: number; maxRequestsPerConnection: number };
  timeouts: { headerMs: number; requestMs: number; keepaliveMs: number; gracefulStopMs: number };
  upstreams: Map<string, UpstreamConfig>;
  routes: RouteConfig[];
  requestId: { header: string; trustIncoming: boolean };
  plugins: PluginConfig[];
  firewall: FirewallConfig;
  waf: WafConfig;
  html: HtmlConfig;
  logging: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug';
    access: { enabled: boolean; format: 'json' | 'combined'; path: string };
  };
  metrics: { enabled: boolean; address: string; port: number };
}
