// Shared helpers for integration tests: free ports, real origins on loopback, and real frontline
// processes started from a configuration object and stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'src/cli/main.ts');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface Origin {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export async function startOrigin(handler: http.RequestListener, port = 0): Promise<Origin> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface Frontline {
  proc: ChildProcess;
  pid: number;
  port: number;
  metricsPort: number;
  dir: string;
  configFile: string;
  controlSocket: string;
  accessLog: string;
  /** Process log lines (stderr) so far, parsed where they are JSON. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Rewrites the config file (for reload tests). */
  writeConfig(config: Record<string, unknown>): void;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `frontline serve` with `config` (listeners/metrics/control socket/access log filled in
 * when absent) and waits for its "ready" line.
 */
export async function startFrontline(config: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<Frontline> {
  const dir = mkdtempSync(join(tmpdir(), 'frontline-test-'));
  const port = await freePort();
  const metricsPort = await freePort();
  const controlSocket = join(dir, 'control.sock');
  const accessLog = join(dir, 'access.log');
  const full: Record<string, unknown> = {
    workers: 1,
    cpu_affinity: 'none',
    listeners: [{ address: '127.0.0.1', port }],
    control_socket: controlSocket,
    metrics: { address: '127.0.0.1', port: metricsPort },
    ...config,
  };
  full.logging = { level: 'info', access: { path: accessLog }, ...(config.logging as object | undefined) };
  const configFile = join(dir, 'frontline.yaml');
  const write = (c: Record<string, unknown>) => writeFileSync(configFile, stringify(c));
  write(full);
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`frontline did not become ready in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const check = setInterval(() => {
      if (logs.some((l) => l.msg === 'ready')) {
        clearTimeout(timer);
        clearInterval(check);
        resolveReady();
      }
    }, 20);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`frontline exited with ${code} before it was ready:\n${err}`));
    });
  });
  return {
    proc,
    pid: proc.pid!,
    port,
    metricsPort,
    dir,
    configFile,
    controlSocket,
    accessLog,
    logs,
    stderr: () => err,
    writeConfig: (c) => write({ ...full, ...c }),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over a fresh connection (or the given agent), body read whole. */
export function request(
  url: string,
  opts: http.RequestOptions & { body?: string | Buffer } = {},
): Promise<SimpleResponse> {
  return new Promise((resolveRes, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveRes({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes on a new connection and returns everything the server sent until it closed (or timeout). */
export function rawRequest(port: number, data: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolveRaw, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolveRaw(out);
    }, timeoutMs);
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolveRaw(out);
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (out) resolveRaw(out);
      else reject(e);
    });
    socket.write(data);
  });
}

/** The access log's lines so far (JSON format). */
export function accessLines(fl: Frontline): Record<string, unknown>[] {
  return readFileSync(fl.accessLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `fn` until it gives a truthy value (access log lines are written within a second). */
export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
