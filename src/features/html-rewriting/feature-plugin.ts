// An HTML feature as a plugin: in the request phase it decides whether it applies (its route
// setting, then its expression) and records itself in ctx; in the body phase the first feature
// plugin that runs builds one rewriter for the response with every feature recorded, so a page
// is decoded, parsed and encoded once however many features rewrite it.
import type { Logger } from 'pino';
import type { HtmlFeatureSelection } from '../../config/html.ts';
import { HTMLRewriter } from '../../html/index.ts';
import { ContextKey, type RequestContext } from '../../proxy/context.ts';
import type { Plugin, Reply } from '../../proxy/plugin.ts';
import type { ListMatchers } from '../../rules/context.ts';
import { rewriteResponseBody, type BodyRewrite } from './body-phase.ts';
import { RequestCondition } from './condition.ts';
import { decodableAcceptEncoding } from './content-coding.ts';

export interface HtmlFeature {
  /** The feature's name: its key in `html:` and in a route's `plugins`. */
  readonly name: string;
  /** Adds the feature's handlers to one response's rewriter; per-response state lives in the handlers. */
  register(rewriter: HTMLRewriter, ctx: RequestContext): void;
}

export interface HtmlFeatureDeps {
  /** The rewriter's buffer limit per response (html.max_memory). */
  readonly maxMemory: number;
  /** The firewall's named lists, for expressions. */
  readonly lists: ListMatchers;
  readonly log: Logger;
}

/** The features that apply to this request, in plugin order. */
const CHOSEN = new ContextKey<HtmlFeature[]>('html features');

/** Records that `feature` rewrites this request's response. */
export function chooseHtmlFeature(ctx: RequestContext, feature: HtmlFeature): void {
  const chosen = ctx.get(CHOSEN);
  if (chosen !== undefined) {
    chosen.push(feature);
    return;
  }
  ctx.set(CHOSEN, [feature]);
  // The origin must not answer in a coding frontline cannot undo.
  const accept = decodableAcceptEncoding(ctx.headers['accept-encoding']);
  if (accept !== undefined) ctx.upstreamHeaders['accept-encoding'] = accept;
}

/** Input kept for a pass-through beyond max_memory: until the engine fails it holds at most max_memory, plus the piece of input being written. */
const HOLD_SLACK = 256 * 1024;

/**
 * Largest piece of input given to the engine at once: while a token is unfinished, the engine
 * counts the whole next write against its memory limit, so pieces this size keep an ordinary
 * page within a limit of a few of them whatever chunk sizes the origin or the decoder produce.
 */
const ENGINE_SLICE = 16 * 1024;

/** Writes `chunk` to the engine in ENGINE_SLICE pieces, waiting for each when its handlers are asynchronous. */
function writeInSlices(rewriter: HTMLRewriter, chunk: Uint8Array, from: number): void | Promise<void> {
  for (let at = from; at < chunk.length; at += ENGINE_SLICE) {
    const pending = rewriter.write(at === 0 && chunk.length <= ENGINE_SLICE ? chunk : chunk.subarray(at, at + ENGINE_SLICE));
    if (pending !== undefined) return pending.then(() => writeInSlices(rewriter, chunk, at + ENGINE_SLICE));
  }
}

/**
 * The plugin for one feature. `request`, when given, runs on the routes the feature is on, before
 * its expression, and may answer the request (a feature's own endpoint); the feature is chosen
 * only when it does not.
 */
export function htmlFeaturePlugin(
  feature: HtmlFeature,
  selection: HtmlFeatureSelection,
  deps: HtmlFeatureDeps,
  request?: (ctx: RequestContext) => Reply | void,
): Plugin {
  const condition = selection.expression === undefined ? undefined : new RequestCondition(selection.expression, deps.lists);
  const { maxMemory, log } = deps;
  const rewrite = (chosen: readonly HtmlFeature[], ctx: RequestContext): BodyRewrite => ({
    description: `html features (${chosen.map((f) => f.name).join(', ')})`,
    holdLimit: maxMemory + HOLD_SLACK,
    log,
    createStage(sink, charset) {
      // Throws for a charset that is unknown or not ASCII-compatible: the page then goes out as it came.
      // Without one in Content-Type, a <meta> charset declaration decides (HTML's own precedence).
      const rewriter = new HTMLRewriter(sink, { encoding: charset, adjustCharsetOnMetaTag: charset === undefined, maxAllowedMemoryUsage: maxMemory });
      for (const f of chosen) f.register(rewriter, ctx);
      return { write: (chunk) => writeInSlices(rewriter, chunk, 0), end: () => rewriter.end() };
    },
  });
  return {
    name: feature.name,
    request(ctx): Reply | void {
      // Routes with `plugins: { <name>: false }` never get here (PluginSet leaves the hook out).
      if (!selection.enabled && ctx.route?.plugins[feature.name] !== true) return;
      const reply = request?.(ctx);
      if (reply !== undefined) return reply;
      if (condition !== undefined && !condition.matches(ctx)) return;
      chooseHtmlFeature(ctx, feature);
    },
    responseBody(ctx, head) {
      const chosen = ctx.get(CHOSEN);
      if (chosen === undefined) return undefined;
      return rewriteResponseBody(ctx, head, rewrite(chosen, ctx));
    },
  };
}
