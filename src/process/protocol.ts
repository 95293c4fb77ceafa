// The messages between frontline's processes: the primary and its workers over cluster IPC
// ('advanced' serialization, so a Config and its Map arrive intact), and the CLI and the primary
// over the control socket (one JSON request line, one JSON reply line).
import type { Config, Distribution } from '../config/types.ts';
import type { WorkerStats } from '../proxy/runtime.ts';

/** Primary → worker. */
export type ToWorker =
  | { type: 'start'; workerId: number; config: Config }
  | { type: 'stats'; requestId: number }
  | { type: 'metrics'; requestId: number }
  | { type: 'shutdown'; graceful: boolean }
  | { type: 'reopen-logs' };

/** Worker → primary. */
export type FromWorker =
  /** The worker listens for messages now (earlier ones would be lost): pin it, send 'start'. */
  | { type: 'booted' }
  | { type: 'ready' }
  | { type: 'startup-error'; message: string }
  /** Sent just before a worker exits on an uncaught exception, so the primary can say why. */
  | { type: 'fatal'; message: string }
  | { type: 'stats'; requestId: number; stats: WorkerStats }
  | { type: 'metrics'; requestId: number; metrics: unknown[] }
  /** A stopping worker's counters after its last request, kept by the primary so totals never drop. */
  | { type: 'final-metrics'; metrics: unknown[] }
  | { type: 'request-failed'; requestId: number; message: string };

function hasType(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

/** Narrows an IPC message; both ends are frontline, so the `type` tag is enough. */
export function isToWorker(m: unknown): m is ToWorker {
  return hasType(m);
}

export function isFromWorker(m: unknown): m is FromWorker {
  return hasType(m);
}

export type ControlRequest = { command: 'status' } | { command: 'reload' } | { command: 'stop'; graceful: boolean };

export type WorkerState = 'starting' | 'ready' | 'stopping' | 'respawning';

export interface WorkerStatus {
  id: number;
  /** Absent while the slot waits to respawn a crashed worker. */
  pid: number | null;
  cpu: number | null;
  state: WorkerState;
  uptimeMs: number;
  configVersion: number | null;
  /** Times this worker id was respawned after a crash. */
  restarts: number;
  /** From WorkerRuntime.stats(); null when the worker did not answer in time. */
  connectionsAccepted: number | null;
  connectionsOpen: number | null;
  requests: number | null;
  requestsActive: number | null;
}

export interface StatusReport {
  pid: number;
  uptimeMs: number;
  configVersion: number;
  configSource: string;
  distribution: Distribution;
  listeners: string[];
  /** The metrics URL, or null when metrics are off. */
  metrics: string | null;
  controlSocket: string;
  reloading: boolean;
  workers: WorkerStatus[];
}

export type ControlReply =
  | { ok: true; status: StatusReport }
  | { ok: true; configVersion: number; warnings: string[] }
  | { ok: true; stopped: true }
  | { ok: false; error: string };

/** Checks a control request line's parsed JSON. */
export function parseControlRequest(value: unknown): ControlRequest | string {
  if (typeof value !== 'object' || value === null) return 'a request is a JSON object';
  const { command, graceful } = value as { command?: unknown; graceful?: unknown };
  if (command === 'status' || command === 'reload') return { command };
  if (command === 'stop') {
    if (graceful !== undefined && typeof graceful !== 'boolean') return '"graceful" is a boolean';
    return { command, graceful: graceful ?? false };
  }
  return `unknown command ${JSON.stringify(command)} (known: status, reload, stop)`;
}
