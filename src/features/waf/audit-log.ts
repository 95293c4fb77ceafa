// The WAF audit log: one JSON line per transaction that SecAuditEngine selects, appended with one
// write() before the response finishes, so whoever reads the response can read its line next.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RequestContext } from '../../proxy/context.ts';
import type { Transaction } from '../../waf/transaction.ts';

export class AuditLog {
  readonly #fd: number;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a');
  }

  write(ctx: RequestContext, tx: Transaction, status: number): void {
    const marker = ctx.headers['x-crs-test'];
    const enforced = tx.interruption;
    const entry = {
      ts: new Date().toISOString(),
      request_id: ctx.id,
      marker: typeof marker === 'string' ? marker : Array.isArray(marker) ? marker[0] : null,
      client: ctx.clientAddress,
      method: ctx.method,
      uri: ctx.url,
      status,
      anomaly_score: tx.anomalyScore(),
      action: enforced !== undefined ? enforced.action : tx.wouldInterrupt !== undefined ? 'detection-only' : 'pass',
      rules: tx.matched
        .filter((rule) => rule.log)
        .map((rule) => ({
          id: rule.id,
          msg: rule.msg,
          data: rule.data,
          file: rule.file,
          line: rule.line,
          severity: rule.severity ?? null,
          tags: rule.tags,
          phase: rule.phase,
        })),
      messages: tx.messages,
    };
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
