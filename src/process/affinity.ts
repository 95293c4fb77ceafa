// CPU pinning: worker i runs on the i-th CPU (mod their number) of those this process may use,
// so a container's or cgroup's CPU set is respected.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The CPUs this process may run on, from /proc/self/status; null where that is not available. */
export function allowedCpus(): number[] | null {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  return list ? parseCpuList(list) : null;
}

/** "0-3,8,10-11" → [0, 1, 2, 3, 8, 10, 11]. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Pins every thread of `pid` to `cpu` (taskset -a: V8's threads exist before we can pin the
 * process; threads started later inherit the mask).
 */
export async function pinToCpu(pid: number, cpu: number): Promise<void> {
  await run('taskset', ['-a', '-pc', String(cpu), String(pid)]);
}
