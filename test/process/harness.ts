// Drives frontline from the outside for the process tests: runs `frontline serve` as a child
// process, reads its JSON log, talks to its control socket, and sends requests through it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const MAIN = join(ROOT, 'src/cli/main.ts');

export type LogLine = Record<string, unknown> & { msg?: string };

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'frontline-test-'));
}

/** A port free right now (bound to 0, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ConfigOptions {
  socket: string;
  listenPorts: number[];
  originPort: number;
  metricsPort: number;
  workers?: number;
  distribution?: 'reuseport' | 'shared' | 'round-robin';
  /** More top-level YAML, appended as is. */
  extra?: string;
}

export function configYaml(o: ConfigOptions): string {
  return `workers: ${o.workers ?? 2}
distribution: ${o.distribution ?? 'reuseport'}
control_socket: ${o.socket}
listeners:
${o.listenPorts.map((p) => `  - address: 127.0.0.1\n    port: ${p}`).join('\n')}
upstreams:
  app:
    servers:
      - url: http://127.0.0.1:${o.originPort}
routes:
  - path: /
    upstream: app
logging:
  access:
    enabled: false
metrics:
  address: 127.0.0.1
  port: ${o.metricsPort}
timeouts:
  graceful_stop: 2s
${o.extra ?? ''}`;
}

/** A running `frontline serve`. */
export class Serve {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `wrapper`: a command that runs node (e.g. taskset); `env`: the environment instead of this one. */
  constructor(args: string[], opts: { wrapper?: string[]; env?: NodeJS.ProcessEnv } = {}) {
    const [command, ...prefix] = [...(opts.wrapper ?? []), NODE];
    this.child = spawn(command, [...prefix, MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: opts.env });
    let partial = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line (e.g. the CLI's own error message): kept in `stderr`
        }
      }
      for (const w of this.waiters) w();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const w of this.waiters) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first log line matching `match`; rejects if frontline exits first or on timeout. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found) return done(() => resolve(found));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`frontline exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.stderr}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for a log line; stderr:\n${this.stderr}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  ready(timeoutMs = 10_000): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === 'ready', timeoutMs);
  }

  /** Stops frontline by its pid (TERM, then KILL), and kills any worker pid it was given. */
  async kill(workerPids: number[] = []): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    for (const pid of workerPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Sends one control request line and returns the parsed reply line. */
export function control(socket: string, request: object, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let buffer = '';
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error('control request timed out')));
    conn.once('connect', () => conn.write(JSON.stringify(request) + '\n'));
    conn.setEncoding('utf8').on('data', (d: string) => (buffer += d));
    conn.once('error', reject);
    conn.once('close', () => {
      try {
        resolve(JSON.parse(buffer) as Record<string, unknown>);
      } catch {
        reject(new Error(`not a JSON reply: ${JSON.stringify(buffer)}`));
      }
    });
  });
}

export interface WorkerInfo {
  id: number;
  pid: number | null;
  cpu: number | null;
  state: string;
  configVersion: number | null;
  requests: number | null;
}

export interface Status {
  configVersion: number;
  distribution: string;
  listeners: string[];
  workers: WorkerInfo[];
}

export async function status(socket: string): Promise<Status> {
  const reply = await control(socket, { command: 'status' });
  if (reply.ok !== true) throw new Error(`status failed: ${JSON.stringify(reply)}`);
  return reply.status as Status;
}

/** Polls `check` until it returns a value, for at most `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the CLI to completion. */
export function runCli(args: string[], timeoutMs = 30_000, node = NODE, entry = MAIN): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [entry, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`frontline ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An origin that answers every request with "origin <path>"; /slow answers after a second. */
export async function startOrigin(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('origin /slow'), 1_000);
    else res.end(`origin ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** GET on a new connection (no keep-alive), resolving to status and body. */
export function get(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
  });
}

/**
 * Sends requests back to back on `concurrency` loops until stopped — or for `maxMs` at most, so
 * that a test that fails before it calls stop() does not leave the loops running.
 */
export function load(url: string, concurrency = 2, maxMs = 30_000): { stop(): Promise<{ ok: number; failures: string[] }> } {
  let running = true;
  const deadline = Date.now() + maxMs;
  let ok = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running && Date.now() < deadline) {
      try {
        const r = await get(url);
        if (r.status === 200) ok++;
        else failures.push(`status ${r.status}: ${r.body.slice(0, 200)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

/** The CPUs a process may run on, from /proc/PID/status. */
export function cpusAllowed(pid: number): string {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}
