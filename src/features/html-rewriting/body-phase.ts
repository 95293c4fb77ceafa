// The response-body phase of HTML rewriting: decides, from the response head, whether this
// response is an HTML document whose body can be rewritten, makes the head say what the client
// will get (content coding, no Content-Length, Vary, a weak ETag), and builds the body transform
// — at most once per response, however many features (or plugins) asked for it.
//
// Header choices, after nginx's sub_filter and gzip filters: a rewritten body has a different
// length (Content-Length dropped), is chosen by Accept-Encoding (Vary added), and is the origin's
// document with equivalent meaning but other bytes — so a strong ETag becomes weak (W/"…"), which
// still revalidates at the origin (If-None-Match compares weakly) but never vouches for
// byte-identity; Last-Modified is kept; byte ranges and digests of the original no longer apply
// (Accept-Ranges and digest fields dropped). A 304 gets the same weak ETag so that it refreshes
// the client's stored copy. HEAD gets the head its GET would get, without a body.
import type { Transform } from 'node:stream';
import type { Logger } from 'pino';
import { charsetOf } from '../../html/index.ts';
import { ContextKey, type RequestContext } from '../../proxy/context.ts';
import type { ResponseHead } from '../../proxy/plugin.ts';
import { negotiateCoding, responseCoding, type Coding } from './content-coding.ts';
import { RewritingBody, type RewriteStage, type Sink } from './rewriting-body.ts';

export interface BodyRewrite {
  /** What rewrites the body (in log lines), e.g. "html features email_obfuscation, https_rewrites". */
  readonly description: string;
  /**
   * Builds the rewriter for this response. `charset` is the Content-Type's charset parameter
   * (undefined when there is none); a throw (e.g. an encoding the rewriter cannot handle) leaves
   * the response as the origin sent it.
   */
  createStage(sink: Sink, charset: string | undefined): RewriteStage;
  /** Most input kept for a pass-through while the rewriter has written nothing (see RewritingBody). */
  readonly holdLimit: number;
  readonly log: Logger;
}

/** Set once the body phase has looked at this response: later callers leave it alone. */
const BODY_DECIDED = new ContextKey<true>('html body rewrite decided');

/**
 * The body transform that rewrites this response, or undefined when it is not to be rewritten
 * (not HTML, no body, a coding frontline cannot undo, Cache-Control: no-transform, HEAD, or
 * already decided by an earlier call for the same response). Adjusts `head.headers` to match.
 */
export function rewriteResponseBody(ctx: RequestContext, head: ResponseHead, rewrite: BodyRewrite): Transform | undefined {
  if (ctx.get(BODY_DECIDED) === true) return undefined;
  ctx.set(BODY_DECIDED, true);
  const { status, headers } = head;
  if (status === 304) {
    weakenEtag(headers);
    return undefined;
  }
  // No body (1xx, 204, 205), or part of one (206) that cannot be rewritten on its own.
  if (status < 200 || status === 204 || status === 205 || status === 206) return undefined;
  const type = single(headers['content-type']);
  if (type === undefined || !isHtml(type)) return undefined;
  if (hasToken(headers['cache-control'], 'no-transform')) return undefined;
  if (single(headers['content-length'])?.trim() === '0') return undefined;
  const originCoding = responseCoding(headers['content-encoding']);
  if (originCoding === null) {
    rewrite.log.info(
      { request_id: ctx.id, content_encoding: headers['content-encoding'] },
      `${rewrite.description}: response not rewritten: frontline cannot decode Content-Encoding "${String(headers['content-encoding'])}"`,
    );
    return undefined;
  }
  const clientCoding = negotiateCoding(ctx.headers['accept-encoding'], originCoding);
  if (ctx.method === 'HEAD') {
    rewriteHeaders(headers, clientCoding);
    return undefined;
  }
  const charset = charsetOf(type) ?? undefined;
  let body: RewritingBody;
  try {
    body = new RewritingBody({
      createStage: (sink) => rewrite.createStage(sink, charset),
      decode: originCoding,
      encode: clientCoding,
      holdLimit: rewrite.holdLimit,
      onFallback: (err) =>
        rewrite.log.warn(
          { request_id: ctx.id, err: err.message },
          `${rewrite.description}: rewriting failed before any output (${err.message}); the original body was sent instead`,
        ),
    });
  } catch (err) {
    rewrite.log.warn({ request_id: ctx.id, err: (err as Error).message }, `${rewrite.description}: response not rewritten: ${(err as Error).message}`);
    return undefined;
  }
  rewriteHeaders(headers, clientCoding);
  return body;
}

function rewriteHeaders(headers: ResponseHead['headers'], coding: Coding | undefined): void {
  delete headers['content-length'];
  if (coding === undefined) delete headers['content-encoding'];
  else headers['content-encoding'] = coding;
  if (!hasToken(headers.vary, 'accept-encoding') && !hasToken(headers.vary, '*')) {
    const vary = headers.vary;
    headers.vary = vary === undefined ? 'Accept-Encoding' : `${Array.isArray(vary) ? vary.join(', ') : vary}, Accept-Encoding`;
  }
  weakenEtag(headers);
  delete headers['accept-ranges'];
  delete headers['content-md5'];
  delete headers['content-digest'];
  delete headers['repr-digest'];
  delete headers.digest;
}

function weakenEtag(headers: ResponseHead['headers']): void {
  const etag = single(headers.etag);
  if (etag !== undefined && etag.startsWith('"')) headers.etag = `W/${etag}`;
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The media type is text/html (parameters aside). */
export function isHtml(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'text/html';
}

/** A comma-separated header (Vary, Cache-Control) lists `token`, case-insensitively. */
function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const item of text.split(',')) {
    const name = item.trim().toLowerCase();
    if (name === token || name.startsWith(`${token}=`)) return true;
  }
  return false;
}
