// The part of a client response the proxy uses, common to HTTP/1 (ServerResponse) and the
// HTTP/2 compatibility API (Http2ServerResponse).
import type { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';

/** Where response body bytes are written: the client response or a body transform. */
export interface BodySink extends EventEmitter {
  write(chunk: Uint8Array): boolean;
  end(): unknown;
}

export interface ClientResponse extends BodySink {
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  end(chunk?: Uint8Array | string): unknown;
  destroy(err?: Error): unknown;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
}
