// The one extension mechanism: a plugin implements any of the phase hooks below. Built-in
// features (firewall, WAF, cache, rewriting) use this same API. Hooks run in the order the
// plugins are listed in the configuration; a hook may be sync or return a promise.
import type { Transform } from 'node:stream';
import type { RequestContext } from './context.ts';

/** An answer a hook gives instead of forwarding the request to the origin. */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
}

/** What the origin answered, as a response-headers hook may change it before it is sent. */
export interface ResponseHead {
  status: number;
  /** Lower-case names; repeated headers as arrays. Mutate in place. */
  headers: Record<string, string | string[] | undefined>;
}

type Maybe<T> = T | Promise<T>;

export interface Plugin {
  readonly name: string;
  /** Request start: ctx and route are known. May answer (e.g. a redirect) or change ctx.upstreamHeaders and ctx.upstreamUrl. */
  request?(ctx: RequestContext): Maybe<Reply | void>;
  /** Access control (firewall rules, WAF, rate limits) before anything reaches the origin. */
  access?(ctx: RequestContext): Maybe<Reply | void>;
  /** Just before the request goes upstream: may change the upstream request headers in ctx.upstreamHeaders. */
  upstream?(ctx: RequestContext): Maybe<Reply | void>;
  /** The response head, from the origin or from a Reply: may change status and headers. */
  responseHeaders?(ctx: RequestContext, head: ResponseHead): Maybe<void>;
  /** Offer a transform for the response body (e.g. an HTML rewriter); undefined leaves it as it is. */
  responseBody?(ctx: RequestContext, head: ResponseHead): Transform | undefined;
  /**
   * After the response is finished (or aborted); for logging and accounting. Never affects the
   * request: what it throws, or a promise it returns rejects with, is logged.
   */
  log?(ctx: RequestContext): void;
  /** Called once when a configuration that loaded this plugin is retired. */
  close?(): Maybe<void>;
}

/** A plugin module's default export: builds the plugin from its configured options. */
export type PluginFactory = (options: Record<string, unknown>) => Maybe<Plugin>;
