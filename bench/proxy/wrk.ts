// Running wrk (pinned to the load CPU) and reading its report.
import { execFile, type ChildProcess } from 'node:child_process';

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Socket errors (connect/read/write/timeout) plus non-2xx/3xx responses. */
  errors: number;
  raw: string;
}

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  cpus: string;
  timeoutSeconds?: number;
  /** A Lua script (`wrk -s`) that sets the method, headers and body of every request. */
  script?: string;
}

/** wrk processes running now, so that an interrupted benchmark can stop them by PID. */
export const runningWrk = new Set<ChildProcess>();

export function killWrk(): void {
  for (const c of runningWrk) c.kill('SIGKILL');
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = ['-t', '1', '-c', String(o.connections), '-d', `${o.seconds}s`, '--latency', '--timeout', `${o.timeoutSeconds ?? 5}s`];
  if (o.script !== undefined) args.push('-s', o.script);
  args.push(o.url);
  const [file, argv] = o.cpus ? ['taskset', ['-c', o.cpus, 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, { encoding: 'utf8', timeout: (o.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      runningWrk.delete(child);
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      try {
        resolve(parseWrk(stdout));
      } catch (e) {
        reject(e);
      }
    });
    runningWrk.add(child);
  });
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!total || !rps || !p50 || !p99) throw new Error(`wrk: unexpected output:\n${out}`);
  let errors = 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += sock.slice(1).reduce((a, b) => a + Number(b), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  return {
    requests: Number(total[1]),
    seconds: durationMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(rps[1]),
    p50ms: durationMs(p50[1]),
    p99ms: durationMs(p99[1]),
    errors,
    raw: out,
  };
}
