// The WAF's own cost per request, in process: CRS at paranoia level 1 (loaded as bench/waf loads
// it) on the benchmark's browser GET and 1 KB form POST, phases 1–2, no proxy around it. Prints
// the median and best of 10 batches in µs per request, with the values kept from earlier requests
// and with every value new; what `run.ts` measures end to end is this
// plus the proxy's own work. CPU time (process.cpuUsage) is reported beside wall time: on a
// shared machine it is the steadier of the two.
//
//   node bench/waf/inprocess.ts [get|post|both] [requests, default 2000] [--pl N]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDirectives, readDirectiveFiles } from '../../src/waf/seclang/directives.ts';
import { WafRuleSet } from '../../src/waf/ruleset.ts';
import { Transaction, type WafRequest } from '../../src/waf/transaction.ts';
import { BENCH_SETTINGS, CRS_BASE, crsFiles } from './configs.ts';
import { workload, type WorkloadName } from './workloads.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { pl: { type: 'string', default: '1' }, crs: { type: 'string' } } });
const which = positionals[0] ?? 'both';
const requests = Number(positionals[1] ?? 2000);
const crs = values.crs ?? resolve(import.meta.dirname, '../../../shared/crs');

const directives = parseDirectives(`SecAction "id:9990001,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level=${values.pl}"\n${BENCH_SETTINGS}`, 'bench');
directives.push(...readDirectiveFiles([CRS_BASE]), ...readDirectiveFiles(crsFiles(crs)));
const rules = WafRuleSet.fromDirectives(directives);

function wafRequest(name: WorkloadName): { request: WafRequest; body: string | undefined } {
  const w = workload(name);
  const headers: [string, string][] = [...w.headers];
  if (w.body !== undefined) headers.push(['Content-Length', String(w.body.length)]);
  return {
    request: { id: 'bench', method: w.method, target: w.path, protocol: 'HTTP/1.1', headers, remoteAddr: '127.0.0.1', remotePort: 5555, serverAddr: '127.0.0.1', serverPort: 80 },
    body: w.body,
  };
}

function measure(name: WorkloadName, firstSight: boolean): void {
  const { request, body } = wafRequest(name);
  let interrupted = 0;
  const run = () => {
    if (firstSight) rules.values.forget();
    const tx = new Transaction(rules, request);
    if ((tx.processRequestHeaders() ?? tx.processRequestBody(body)) !== undefined) interrupted++;
  };
  for (let i = 0; i < 1000; i++) run();
  const batch = Math.max(1, Math.round(requests / 10));
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 10; r++) {
    const start = process.hrtime.bigint();
    const startCpu = process.cpuUsage();
    for (let i = 0; i < batch; i++) run();
    const used = process.cpuUsage(startCpu);
    wall.push(Number(process.hrtime.bigint() - start) / batch / 1000);
    cpu.push((used.user + used.system) / batch);
  }
  console.log(
    `${name.toUpperCase()} phases 1-2 (CRS PL${values.pl}${firstSight ? ', every value new' : ''}): wall median ${median(wall).toFixed(0)} µs (best ${Math.min(...wall).toFixed(0)}), ` +
      `CPU median ${median(cpu).toFixed(0)} µs (best ${Math.min(...cpu).toFixed(0)}), interrupted ${interrupted}`,
  );
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
}

// The same request again and again: its values are worked out once and kept (src/waf/value-memo.ts);
// then with what was kept forgotten before each request, as if every value were new.
for (const name of which === 'both' ? (['get', 'post'] as const) : [which as WorkloadName]) {
  measure(name, false);
  measure(name, true);
}
