// The pages frontline answers with when it, not the origin, decides the response. Each says what
// went wrong and carries the request id, so a visitor's report can be matched to the log line.
import { STATUS_CODES } from 'node:http';
import type { Reply } from './plugin.ts';

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => escapes[c]);

export function errorReply(status: number, detail: string, requestId: string): Reply {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const body =
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n` +
    `<body><h1>${title}</h1>\n<p>${escapeHtml(detail)}</p>\n` +
    `<hr><p><small>frontline · request id ${escapeHtml(requestId)}</small></p></body></html>\n`;
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body,
  };
}
