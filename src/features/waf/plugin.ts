// The WAF in the request path: SecLang rules (OWASP CRS) with phases 1–2 in the access phase —
// the request body read up to SecRequestBodyLimit first, never more, and the scan handed to the
// worker's `waf` thread pool (a full queue runs it on the event loop, or answers 503) — phase 3 on
// the response head, phase 4 on the response body (held up to SecResponseBodyLimit when the rules
// want it), phase 5 and the audit log line before the response finishes. A route turns it off
// with `plugins: { waf: false }`; finer exclusions are SecLang (ctl:ruleRemoveById, ...).
import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import type { WafConfig } from '../../config/waf.ts';
import { registerPoolMetrics } from '../../observability/pool-metrics.ts';
import type { WorkerMetrics } from '../../observability/metrics.ts';
import { Pool } from '../../pool/pool.ts';
import { withSpooledBody } from '../../pool/spool.ts';
import { siblingModule } from '../../pool/task-module.ts';
import { ContextKey, type RequestContext } from '../../proxy/context.ts';
import type { Plugin, Reply, ResponseHead } from '../../proxy/plugin.ts';
import type { WafRuleSet } from '../../waf/ruleset.ts';
import { Transaction, type Interruption, type TransactionState, type WafRequest } from '../../waf/transaction.ts';
import { wafRules, type RequestTask } from './request-task.ts';
import { FIREWALL_VERDICT } from '../firewall/plugin.ts';
import { AuditLog } from './audit-log.ts';

/** Bodies larger than this go to the pool through a temp file instead of a message copy. */
const SPOOL_ABOVE = 256 * 1024;

interface WafState {
  readonly tx: Transaction;
  /** The audit line is written (or not wanted) and phase 5 ran. */
  finished: boolean;
}

const WAF_STATE = new ContextKey<WafState>('waf transaction');

export async function wafPlugin(config: WafConfig, log: Logger, metrics: WorkerMetrics | undefined): Promise<Plugin | undefined> {
  if (!config.enabled) return undefined;
  const rules = wafRules(config);
  const pool = await Pool.create<RequestTask, Transaction | TransactionState, WafConfig>({
    name: 'waf',
    module: siblingModule(import.meta.url, 'request-task'),
    initData: config,
    threads: config.threads,
    queueLimit: config.queueLimit,
    overflow: config.overflow,
  });
  const unregister = metrics === undefined ? undefined : registerPoolMetrics(metrics.registry, pool);
  const audit = config.auditLog === undefined ? undefined : new AuditLog(config.auditLog);
  const blockStatus = config.blockStatus;

  /** Phases 1–2 in the pool; a request the pool cannot take is answered 503 (overflow: reject, a crashed thread). */
  const scan = async (ctx: RequestContext, request: WafRequest, body: Buffer | undefined): Promise<Transaction | TransactionState | Reply> => {
    try {
      if (body !== undefined && body.length > SPOOL_ABOVE) return await withSpooledBody(body, (bodyPath) => pool.run({ request, bodyPath }));
      return await pool.run({ request, body: body?.toString('latin1') });
    } catch (error) {
      log.error({ request_id: ctx.id, err: error }, `waf: request not inspected (${(error as Error).message}); answered 503`);
      ctx.error = `waf unavailable: ${(error as Error).message}`;
      ctx.answeredBy = 'waf:unavailable';
      return blockReply(503, 'The request could not be inspected; try again later.');
    }
  };

  const finish = (ctx: RequestContext, state: WafState, status: number): void => {
    if (state.finished) return;
    state.finished = true;
    state.tx.processLogging();
    if (audit !== undefined && state.tx.auditRelevant(status)) audit.write(ctx, state.tx, status);
  };

  return {
    name: 'waf',
    async access(ctx): Promise<Reply | void> {
      // A firewall skip rule can switch the WAF off for this request.
      if (ctx.get(FIREWALL_VERDICT)?.skippedPhases.includes('waf') === true) return;
      const settings = rules.settings;
      if (settings.engine === 'Off') return;
      const request = wafRequest(ctx);
      let body: Buffer | undefined;
      if (settings.requestBodyAccess) {
        // As ModSecurity: SecRequestBodyNoFilesLimit bounds every body but a multipart one (whose file parts only SecRequestBodyLimit bounds).
        const type = ctx.headers['content-type'];
        const multipart = typeof type === 'string' && type.toLowerCase().startsWith('multipart/form-data');
        const limit = multipart ? settings.requestBodyLimit : Math.min(settings.requestBodyLimit, settings.requestBodyNoFilesLimit);
        const prefix = await ctx.readBody(limit);
        if (!prefix.complete && settings.requestBodyLimitAction === 'Reject') {
          ctx.answeredBy = 'waf:body-limit';
          return blockReply(413, 'The request body is larger than this server inspects.');
        }
        body = prefix.data;
      }
      const scanned = await scan(ctx, request, body);
      let tx: Transaction;
      if (scanned instanceof Transaction) tx = scanned;
      else if ('tx' in scanned) tx = Transaction.resume(rules, request, scanned, { blockStatus });
      else return scanned;
      ctx.set(WAF_STATE, { tx, finished: false });
      noteMatches(ctx, tx);
      if (tx.interruption !== undefined) return interrupt(ctx, tx.interruption);
    },
    responseHeaders(ctx, head): void {
      const state = ctx.get(WAF_STATE);
      if (state === undefined || state.finished) return;
      const { tx } = state;
      if (tx.interruption === undefined) {
        const interruption = tx.processResponseHeaders(head.status, `HTTP/${ctx.httpVersion}`, headerPairs(head));
        noteMatches(ctx, tx);
        if (interruption !== undefined) {
          ctx.answeredBy = `waf:${interruption.ruleId}`;
          head.status = interruption.status;
        }
      }
      if (!tx.wantsResponseBody() || tx.interruption !== undefined) finish(ctx, state, head.status);
    },
    responseBody(ctx, head): Transform | undefined {
      const state = ctx.get(WAF_STATE);
      if (state === undefined || state.finished) return undefined;
      return new ResponseInspection(rules, state.tx, (status) => {
        noteMatches(ctx, state.tx);
        finish(ctx, state, status);
      }, head.status);
    },
    log(ctx): void {
      const state = ctx.get(WAF_STATE);
      if (state !== undefined) finish(ctx, state, ctx.status);
    },
    async close(): Promise<void> {
      unregister?.();
      await pool.close();
      audit?.close();
    },
  };
}

/** The request as the WAF reads it. */
function wafRequest(ctx: RequestContext): WafRequest {
  const raw = ctx.rawHeaders;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i], raw[i + 1]]);
  return {
    id: ctx.id,
    method: ctx.method,
    target: ctx.target,
    protocol: `HTTP/${ctx.httpVersion}`,
    headers,
    remoteAddr: ctx.clientAddress,
    remotePort: ctx.clientPort,
    serverAddr: '',
    serverPort: 0,
  };
}

function headerPairs(head: ResponseHead): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(head.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
    else pairs.push([name, value]);
  }
  return pairs;
}

/** Rules that matched and log, for the access log's `rules`. */
function noteMatches(ctx: RequestContext, tx: Transaction): void {
  const noted = (ctx.matchedRules ??= []);
  for (const rule of tx.matched) {
    if (!rule.log) continue;
    const name = `waf:${rule.id}`;
    if (!noted.includes(name)) noted.push(name);
  }
}

function interrupt(ctx: RequestContext, interruption: Interruption): Reply {
  ctx.answeredBy = `waf:${interruption.ruleId}`;
  if (interruption.action === 'redirect' && interruption.location !== undefined) {
    return { status: interruption.status, headers: { location: interruption.location, 'cache-control': 'no-store' } };
  }
  return blockReply(interruption.status, `This request was blocked by the web application firewall (rule ${interruption.ruleId}).`);
}

function blockReply(status: number, message: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: `${message}\n` };
}

/**
 * Phase 4: holds the response body up to SecResponseBodyLimit, runs the rules on it, then lets
 * it through (a body longer than the limit is inspected in part: the rest streams on). A block
 * here fails the response, since its head may already be on its way.
 */
class ResponseInspection extends Transform {
  readonly #tx: Transaction;
  readonly #limit: number;
  readonly #done: (status: number) => void;
  readonly #status: number;
  #held: Buffer[] | undefined = [];
  #size = 0;

  constructor(rules: WafRuleSet, tx: Transaction, done: (status: number) => void, status: number) {
    super();
    this.#tx = tx;
    this.#limit = rules.settings.responseBodyLimit;
    this.#done = done;
    this.#status = status;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#held === undefined) {
      callback(null, chunk);
      return;
    }
    this.#held.push(chunk);
    this.#size += chunk.length;
    if (this.#size <= this.#limit) {
      callback();
      return;
    }
    callback(this.#inspect());
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#held === undefined ? null : this.#inspect());
  }

  /** Runs phase 4 on what is held and releases it; an error when the rules block. */
  #inspect(): Error | null {
    const held = Buffer.concat(this.#held!, this.#size);
    this.#held = undefined;
    const interruption = this.#tx.processResponseBody(held.subarray(0, this.#limit).toString('latin1'));
    this.#done(this.#status);
    if (interruption !== undefined) return new Error(`response blocked by WAF rule ${interruption.ruleId}`);
    this.push(held);
    return null;
  }
}
