// The WAF's audit log as the runner reads it: JSON lines, one object per transaction,
//   {"ts", "request_id", "marker", "client", "method", "uri", "status", "anomaly_score", "action",
//    "rules": [{"id", "msg", "data", "file", "line", "severity", "tags", "phase"}], "messages": [...]}
// where `marker` is the request's X-CRS-Test header (else null). The file is followed while
// it grows; marker entries delimit each stage's entries, as go-ftw's marker lines delimit its
// slice of the error log.
//
// go-ftw's `match_regex` checks run on ModSecurity error-log lines. `renderEntry` gives each
// rule match such a line, and each engine message one more:
//   [client 127.0.0.1] ModSecurity: Warning. [file "/crs/rules/REQUEST-920-PROTOCOL-ENFORCEMENT.conf"]
//     [line "1234"] [id "920100"] [msg "Invalid HTTP Request Line"] [data "..."] [severity "CRITICAL"]
//     [tag "application-multi"] ... [uri "/"] [unique_id "..."]
//   [client 127.0.0.1] ModSecurity: <message> [uri "/"] [unique_id "..."]
// Values inside [...] are escaped as ModSecurity does (`"` and `\` with a backslash, bytes
// outside printable ASCII as \xHH); messages are written as they are.
import { open, type FileHandle } from 'node:fs/promises';

export interface AuditRule {
  id: number;
  msg: string;
  data: string;
  file: string;
  line: string;
  severity: string;
  tags: string[];
  phase: string;
}

export interface AuditEntry {
  ts: string;
  requestId: string;
  marker: string | null;
  client: string;
  method: string;
  uri: string;
  status: number | null;
  anomalyScore: string;
  action: string;
  rules: AuditRule[];
  messages: string[];
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/** Reads one audit-log object; undefined when it is not one (no usable `rules`). Lenient on types. */
export function parseAuditEntry(value: unknown): AuditEntry | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const rules: AuditRule[] = [];
  if (o.rules !== undefined && o.rules !== null && !Array.isArray(o.rules)) return undefined;
  for (const r of (o.rules as unknown[] | undefined) ?? []) {
    if (typeof r !== 'object' || r === null) continue;
    const rule = r as Record<string, unknown>;
    const id = typeof rule.id === 'number' ? rule.id : typeof rule.id === 'string' && /^\d+$/.test(rule.id) ? Number(rule.id) : undefined;
    if (id === undefined) continue;
    rules.push({
      id,
      msg: text(rule.msg),
      data: text(rule.data),
      file: text(rule.file),
      line: text(rule.line),
      severity: text(rule.severity),
      tags: Array.isArray(rule.tags) ? rule.tags.map(text) : [],
      phase: text(rule.phase),
    });
  }
  const messages = Array.isArray(o.messages)
    ? o.messages.map((m: unknown) => {
        if (typeof m === 'string') return m;
        if (typeof m === 'object' && m !== null) {
          const mm = m as Record<string, unknown>;
          return text(mm.message) || text(mm.msg) || JSON.stringify(m);
        }
        return text(m);
      })
    : [];
  return {
    ts: text(o.ts),
    requestId: text(o.request_id),
    marker: typeof o.marker === 'string' ? o.marker : null,
    client: text(o.client),
    method: text(o.method),
    uri: text(o.uri),
    status: typeof o.status === 'number' ? o.status : null,
    anomalyScore: typeof o.anomaly_score === 'object' && o.anomaly_score !== null ? JSON.stringify(o.anomaly_score) : text(o.anomaly_score),
    action: text(o.action),
    rules,
    messages,
  };
}

/** ModSecurity's log_escape: `"` and `\` escaped, bytes outside printable ASCII as \xHH. */
export function modsecEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += '\\' + String.fromCharCode(byte);
    else if (byte < 0x20 || byte > 0x7e) out += '\\x' + byte.toString(16).padStart(2, '0');
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** The error-log lines a ModSecurity-style engine would have written for this transaction. */
export function renderEntry(entry: AuditEntry): string[] {
  const prefix = entry.client !== '' ? `[client ${entry.client.replace(/:\d+$/, '')}] ` : '';
  const tail = `[uri "${modsecEscape(entry.uri)}"] [unique_id "${modsecEscape(entry.requestId)}"]`;
  const lines: string[] = [];
  for (const r of entry.rules) {
    let line = `${prefix}ModSecurity: Warning.`;
    if (r.file !== '') line += ` [file "${modsecEscape(r.file)}"]`;
    if (r.line !== '') line += ` [line "${modsecEscape(r.line)}"]`;
    line += ` [id "${r.id}"]`;
    if (r.msg !== '') line += ` [msg "${modsecEscape(r.msg)}"]`;
    if (r.data !== '') line += ` [data "${modsecEscape(r.data)}"]`;
    if (r.severity !== '') line += ` [severity "${modsecEscape(r.severity)}"]`;
    for (const tag of r.tags) line += ` [tag "${modsecEscape(tag)}"]`;
    lines.push(`${line} ${tail}`);
  }
  for (const m of entry.messages) lines.push(`${prefix}ModSecurity: ${m} ${tail}`);
  return lines;
}

/** What the audit log says about one stage: the entries between its two markers. */
export interface StageLog {
  entries: AuditEntry[];
  /** Rendered error-log lines (renderEntry of every entry). */
  lines: string[];
  /** Rule ids of every entry, sorted, without duplicates (go-ftw's TriggeredRules). */
  ids: number[];
}

export function stageLog(entries: AuditEntry[]): StageLog {
  const ids = [...new Set(entries.flatMap((e) => e.rules.map((r) => r.id)))].sort((a, b) => a - b);
  return { entries, lines: entries.flatMap(renderEntry), ids };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Follows an audit log file as it grows. Entries are kept from `base` on; `positions` maps a
 * marker to where its entries are (absolute indexes), so windows between markers are cheap.
 */
export class AuditLogTail {
  private handle?: FileHandle;
  private offset = 0;
  private partial = Buffer.alloc(0);
  private entries: AuditEntry[] = [];
  private base = 0;
  private readonly positions = new Map<string, number[]>();
  private reading?: Promise<void>;
  private readonly chunk = Buffer.alloc(1 << 20);
  /** Lines that were not JSON objects of the expected shape. */
  malformed = 0;

  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads what was appended since the last call. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    if (this.handle === undefined) {
      try {
        this.handle = await open(this.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
    }
    const chunk = this.chunk;
    for (;;) {
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      let data = Buffer.concat([this.partial, chunk.subarray(0, bytesRead)]);
      let nl: number;
      while ((nl = data.indexOf(0x0a)) !== -1) {
        this.addLine(data.subarray(0, nl).toString('utf8'));
        data = data.subarray(nl + 1);
      }
      this.partial = Buffer.from(data);
    }
  }

  private addLine(line: string): void {
    if (line.trim() === '') return;
    let entry: AuditEntry | undefined;
    try {
      entry = parseAuditEntry(JSON.parse(line));
    } catch {
      entry = undefined;
    }
    if (entry === undefined) {
      this.malformed++;
      return;
    }
    const index = this.base + this.entries.length;
    this.entries.push(entry);
    if (entry.marker !== null) {
      const list = this.positions.get(entry.marker);
      if (list === undefined) this.positions.set(entry.marker, [index]);
      else list.push(index);
    }
  }

  /** Absolute indexes of the entries carrying `marker`. */
  markerPositions(marker: string): number[] {
    return this.positions.get(marker) ?? [];
  }

  /** Waits until an entry carries `marker`; its first index, or undefined after the deadline. */
  async waitForMarker(marker: string, deadline: number, pollMs = 10, cancelled?: () => boolean): Promise<number | undefined> {
    for (;;) {
      await this.refresh();
      const found = this.markerPositions(marker);
      if (found.length > 0) return found[0];
      if (performance.now() >= deadline || cancelled?.() === true) return undefined;
      await sleep(pollMs);
    }
  }

  /**
   * The entries strictly between the last `start` marker before `end`'s first entry and that
   * entry, leaving out entries whose marker is in `ignoreMarkers` (the runner's own requests).
   */
  window(start: string, end: string, ignoreMarkers: ReadonlySet<string>): AuditEntry[] | undefined {
    const endAt = this.markerPositions(end)[0];
    if (endAt === undefined) return undefined;
    const starts = this.markerPositions(start).filter((p) => p < endAt);
    const startAt = starts[starts.length - 1];
    if (startAt === undefined || startAt < this.base) return undefined;
    return this.entries.slice(startAt + 1 - this.base, endAt - this.base).filter((e) => e.marker === null || !ignoreMarkers.has(e.marker));
  }

  /** Forgets entries before absolute index `index` (no later window will start before it). */
  discardBefore(index: number): void {
    if (index <= this.base) return;
    const drop = Math.min(index - this.base, this.entries.length);
    for (const e of this.entries.slice(0, drop)) if (e.marker !== null) this.positions.delete(e.marker);
    this.entries = this.entries.slice(drop);
    this.base += drop;
  }

  /** Every entry read so far that is still kept. */
  all(): readonly AuditEntry[] {
    return this.entries;
  }

  async close(): Promise<void> {
    await this.reading;
    await this.handle?.close();
    this.handle = undefined;
  }
}
