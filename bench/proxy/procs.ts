// Processes for the proxy benchmark: starting them (pinned with taskset, output to files), reading
// their CPU time and memory from /proc (summed over the process tree: nginx's master and worker,
// frontline's primary and workers), and stopping every one of them by PID, also on Ctrl-C and errors.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Started {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: boolean;
  exitCode: number | null;
}

const started: Started[] = [];

/** Starts `cmd args` pinned to `cpus` (e.g. "1", "0,1"; "" = not pinned), stdout+stderr to `logFile`. */
export function start(name: string, cpus: string, cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Started {
  const fd = openSync(logFile, 'a');
  const [file, argv] = cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
  // taskset execs the command, so the PID is the command's own.
  const child = spawn(file, argv, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const s: Started = { name, child, pid: child.pid, logFile, exited: false, exitCode: null };
  child.on('exit', (code, signal) => {
    s.exited = true;
    s.exitCode = code ?? (signal ? 128 : null);
  });
  child.on('error', () => {
    s.exited = true;
  });
  started.push(s);
  return s;
}

/** PIDs of `root` and all its descendants (children, grandchildren, ...), from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const st = readStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

interface Stat {
  ppid: number;
  /** utime + stime, clock ticks, all threads of the process. */
  ticks: number;
  /** stime alone: time in the kernel (system calls, network stack). */
  sysTicks: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), sysTicks: Number(f[12]) };
}

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (µs, user + system) used so far by the processes `pids`. */
export function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1e6) / CLK_TCK;
}

/** Of cpuMicros, the part spent in the kernel (stime). */
export function sysMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.sysTicks ?? 0;
  return (ticks * 1e6) / CLK_TCK;
}

/** Resident memory (KiB, VmRSS) of the processes `pids`, summed. */
export function rssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch {
      // gone
    }
  }
  return total;
}

/** Busy and total jiffies of one CPU, from /proc/stat (for "was the load side saturated?"). */
export function cpuJiffies(cpu: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return { busy: 0, total: 0 };
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is inside user)
  const idle = v[3] + v[4]; // idle + iowait
  return { busy: total - idle, total };
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it again right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops one started process and its descendants: TERM to the root, then KILL whatever is left. */
export async function stop(s: Started, graceMs = 3000): Promise<void> {
  const tree = s.exited ? [] : processTree(s.pid);
  if (tree.length === 0) return;
  try {
    process.kill(s.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await sleep(50);
  for (const pid of tree) {
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  const idx = started.indexOf(s);
  if (idx >= 0) started.splice(idx, 1);
}

/** Stops everything this module started (newest first). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].reverse().map((s) => stop(s)));
}

/** Synchronous last resort for `process.on('exit')`: KILL every started process tree. */
export function killAllNow(): void {
  for (const s of started) {
    if (s.exited) continue;
    for (const pid of processTree(s.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The median of the finite values (mean of the middle two for an even count); NaN when there are none. */
export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The last lines of a process's log file, for error messages. */
export function tail(file: string | undefined, lines = 15): string {
  if (file === undefined) return '';
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** The first line a tool prints for its version. */
export function versionOf(cmd: string, args: string[]): string {
  // nginx -v prints to stderr, wrk -v exits 1: read both streams, whatever the exit code.
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}
