// The client side of one request as the request path sees it, whichever protocol carried it:
// HTTP/1.x (frontline's own connection handler, http1/connection.ts) or HTTP/2 (a node:http2
// stream, http2.ts). ProxyHandler reads the request and writes the response through this and
// nothing else, so both protocols run the same phases with no code of their own in the handler.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** Response header fields: lower-case names; repeated fields as arrays. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Why a connection rejected a request it had already handed over (its body was too slow or malformed). */
export interface Rejection {
  status: number;
  reason: string;
}

/** What the request path is told while a response goes out; one per request. */
export interface DownstreamListener {
  /** write() returned false before, and the client has taken what was waiting: writing may go on. */
  onDrain(): void;
  /**
   * The exchange with the client is over, once: `complete` when the whole response was handed to
   * the client's connection, false when the client went away or the response was aborted first.
   */
  onEnd(complete: boolean): void;
}

export interface Downstream {
  readonly method: string;
  /** The request target as received: path and query (`*` for `OPTIONS *`, `host:port` for CONNECT). */
  readonly url: string;
  /** The request target exactly as received (HTTP/1 absolute-form kept whole; HTTP/2 `:path`): what a WAF inspects. */
  readonly target: string;
  /** "1.0", "1.1" or "2.0". */
  readonly httpVersion: string;
  /** The request's header fields (lower-case names; HTTP/2 pseudo-headers included). */
  readonly headers: IncomingHttpHeaders;
  /**
   * The header fields as received: name, value, name, value, … in their order and case (no
   * pseudo-headers). Built on first call: only the firewall's header fields need it.
   */
  rawHeaders(): readonly string[];
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The client connected over TLS. */
  readonly encrypted: boolean;
  /** The request has a body (its length may still turn out to be 0 on HTTP/2). */
  readonly hasBody: boolean;
  /** The request body, read by whoever forwards it; null when there is none. */
  readonly body: Readable | null;
  /** The client went away before its request body was complete. */
  readonly uploadAborted: boolean;
  /**
   * The head is larger than limits.max_header_size but the request can still be answered (on
   * HTTP/2 before the client acknowledged the setting; an HTTP/1 connection rejects such a head itself).
   */
  readonly headTooLarge: boolean;
  /** Set when the connection rejected this request while it was in progress (408, 400): for the log. */
  readonly rejection: Rejection | undefined;
  /** Told about drain and the end; set by the request path when it takes the request. */
  listener: DownstreamListener | undefined;

  /** Sends a whole response, head and body together. */
  respond(status: number, headers: ResponseHeaders, body: Uint8Array | undefined): void;
  /**
   * Starts a streamed response; the body follows with write() and end(). The head may be held
   * back until the first write() or end() (as node:http does), to leave in one write with the
   * first body bytes. Throws on an invalid status or header.
   */
  writeHead(status: number, headers: ResponseHeaders): void;
  /** false: the client is behind; wait for the listener's onDrain before writing more. */
  write(chunk: Uint8Array): boolean;
  /**
   * The chunk last given to write() is still referenced (queued for the client): its memory must
   * not be reused yet. false when it was handed to the kernel, or copied, before write() returned.
   */
  readonly holding: boolean;
  end(): void;
  /**
   * Ends the response abnormally, so that the client sees it incomplete rather than complete:
   * HTTP/1 closes the connection, HTTP/2 resets the stream.
   */
  abort(): void;
  readonly headersSent: boolean;
  /** Nothing more can be sent: the response was ended or aborted, or the client is gone. */
  readonly done: boolean;
}
