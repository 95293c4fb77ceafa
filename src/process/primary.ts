// The primary process: starts the workers (node:cluster), pins them to CPUs, respawns crashed
// ones with backoff, reloads the configuration by replacing workers one at a time, answers the
// control socket and the admin HTTP listener, and stops on nginx's signals.
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { ConfigError } from '../config/load.ts';
import type { Config, ListenerConfig } from '../config/types.ts';
import { aggregateMetrics, retainTotals } from '../observability/aggregate.ts';
import { createLogger, type Logger } from '../observability/log.ts';
import type { WorkerStats } from '../proxy/runtime.ts';
import { closeAdmin, listenAdmin } from './admin.ts';
import { allowedCpus, pinToCpu } from './affinity.ts';
import { controlSocketPath, listenControlSocket, type ControlServer } from './control.ts';
import { workerEntry } from './dist.ts';
import {
  isFromWorker,
  type ControlReply,
  type ControlRequest,
  type FromWorker,
  type StatusReport,
  type ToWorker,
  type WorkerStatus,
} from './protocol.ts';

const STARTUP_TIMEOUT_MS = 30_000;
const STATS_TIMEOUT_MS = 1_000;
const METRICS_TIMEOUT_MS = 2_000;
/** Time a worker gets beyond its stop deadline before it is killed. */
const KILL_MARGIN_MS = 5_000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 30_000;
/** A worker that stayed up this long before crashing starts its backoff over. */
const STABLE_AFTER_MS = 60_000;

export interface PrimaryOptions {
  config: Config;
  /** Produces the configuration again for a reload (re-reads the file); throws ConfigError. */
  load: () => Config;
  /** Called once every worker is ready (when the "ready" line is logged). */
  onReady?: (controlSocket: string) => void;
}

/** frontline could not start; the message says why (another instance, a port in use, ...). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Runs until stopped by a signal or `frontline stop`; rejects with StartupError if it cannot start. */
export function runPrimary(options: PrimaryOptions): Promise<void> {
  return new Primary(options).run();
}

interface ExitInfo {
  code: number | null;
  signal: string | null;
}

interface Proc {
  /** The worker id: a slot keeps its id (and CPU) across respawns and reloads. */
  slot: number;
  worker: Worker;
  pid: number;
  cpu: number | null;
  state: 'starting' | 'ready' | 'stopping';
  startedAt: number;
  configVersion: number;
  gracefulStopMs: number;
  /** Rejects with the reason if the worker does not become ready. */
  ready: Promise<void>;
  exited: Promise<ExitInfo>;
  /** What the worker reported before it exited (a startup error or an uncaught exception). */
  reportedError?: string;
  /** Its final metrics are in the retained totals: scrapes must not count it again. */
  finalized?: boolean;
  pending: Map<number, (reply: FromWorker | Error) => void>;
}

interface Slot {
  id: number;
  current?: Proc;
  restarts: number;
  backoffMs: number;
  respawnAt?: number;
  respawnTimer?: NodeJS.Timeout;
  /** A reload is replacing this slot's worker: the reload, not the respawn logic, fills it. */
  swapping: boolean;
}

type ReloadReply = Extract<ControlReply, { configVersion: number }> | Extract<ControlReply, { ok: false }>;

class Primary {
  private config: Config;
  private configVersion = 1;
  private readonly load: () => Config;
  private readonly onReady?: (controlSocket: string) => void;
  private readonly log: Logger;
  private readonly startedAt = Date.now();
  private readonly cpus = allowedCpus();
  private slots: Slot[] = [];
  /** Every live worker process: current ones, starting ones, and old ones still draining. */
  private readonly procs = new Set<Proc>();
  private control?: ControlServer;
  private admin?: Server;
  /** Ports chosen for port-0 listeners, by address, kept across reloads so workers agree. */
  private chosenPorts = new Map<string, number[]>();
  private started = false;
  private stopMode?: 'graceful' | 'fast';
  private readonly stopped = Promise.withResolvers<void>();
  private reloadRunning?: Promise<ReloadReply>;
  private reloadQueued?: Promise<ReloadReply>;
  private nextRequestId = 1;
  /** Counter and histogram totals of workers that have exited (see retainTotals). */
  private retained: Promise<unknown[] | undefined> = Promise.resolve(undefined);

  constructor(options: PrimaryOptions) {
    this.config = options.config;
    this.load = options.load;
    this.onReady = options.onReady;
    this.log = createLogger(this.config.logging.level, { role: 'primary' });
  }

  async run(): Promise<void> {
    // Frozen by cluster at the first fork: distribution cannot change by reload (see reloadBlocker).
    cluster.schedulingPolicy = this.config.distribution === 'shared' ? cluster.SCHED_NONE : cluster.SCHED_RR;
    const entry = workerEntry();
    if (entry.fromSource !== undefined) {
      this.log.warn(`workers run from src/ because ${entry.fromSource}; built workers use about 35 MB less memory each`);
    }
    cluster.setupPrimary({ exec: entry.path, args: [], serialization: 'advanced' });
    try {
      this.control = await listenControlSocket(controlSocketPath(this.config.controlSocket), (r) => this.onControl(r));
    } catch (err) {
      throw new StartupError(errorMessage(err));
    }
    const removeSignalHandlers = this.installSignalHandlers();
    try {
      const failure = await this.startUp();
      if (failure !== undefined && this.stopMode === undefined) {
        this.log.fatal({ reason: failure }, `cannot start: ${failure}`);
        await this.stop(false);
        throw new StartupError(failure);
      }
      this.started = true;
      if (this.stopMode === undefined) {
        this.logReady();
        this.onReady?.(this.control.path);
      }
      await this.stopped.promise;
    } finally {
      removeSignalHandlers();
      await this.control.close();
    }
  }

  /** Resolves to a reason if something failed to start. */
  private async startUp(): Promise<string | undefined> {
    try {
      const { config, chosen } = await this.choosePorts(this.config);
      this.config = config;
      this.chosenPorts = chosen;
    } catch (err) {
      return `cannot choose a port for a listener with port 0: ${errorMessage(err)}`;
    }
    const config = this.config;
    const m = config.metrics;
    if (m.enabled) {
      try {
        this.admin = await this.listenAdmin(config);
      } catch (err) {
        return `cannot listen for metrics on ${m.address}:${m.port}: ${errorMessage(err)}`;
      }
    }
    this.slots = Array.from({ length: config.workers }, (_, id) => newSlot(id));
    try {
      await Promise.all(
        this.slots.map((slot) => {
          slot.current = this.spawn(slot.id, config, this.configVersion);
          return slot.current.ready;
        }),
      );
    } catch (err) {
      return errorMessage(err);
    }
    return undefined;
  }

  private logReady(): void {
    const c = this.config;
    this.log.info(
      {
        listeners: listenerUrls(c.listeners),
        metrics: this.metricsUrl(),
        control_socket: this.control?.path,
        workers: c.workers,
        distribution: c.distribution,
        config_version: this.configVersion,
      },
      'ready',
    );
    if (c.distribution === 'reuseport' && readProc('/proc/sys/net/ipv4/tcp_migrate_req') === '0') {
      this.log.warn(
        'net.ipv4.tcp_migrate_req is 0: when a reload closes an old worker\'s SO_REUSEPORT socket, connections ' +
          'still in its accept queue are reset; set it to 1 for reloads without failed connections',
      );
    }
  }

  /** After log rotation moved the access log files: every worker opens its file again. */
  private reopenLogs(): void {
    for (const proc of this.procs) if (proc.state !== 'starting') this.send(proc, { type: 'reopen-logs' });
  }

  private installSignalHandlers(): () => void {
    // nginx's meanings.
    const handlers: [NodeJS.Signals, () => void][] = [
      ['SIGHUP', () => void this.reload()],
      ['SIGQUIT', () => void this.stop(true)],
      ['SIGTERM', () => void this.stop(false)],
      ['SIGINT', () => void this.stop(false)],
      ['SIGUSR1', () => this.reopenLogs()],
    ];
    const installed = handlers.map(([signal, act]): [NodeJS.Signals, () => void] => [
      signal,
      () => {
        this.log.info({ signal }, `received ${signal}`);
        act();
      },
    ]);
    // Node's default action for USR2 would end the primary without a stop; until upgrades exist, say so and go on.
    installed.push(['SIGUSR2', () => this.log.warn({ signal: 'SIGUSR2' }, 'USR2 (binary upgrade) is not supported yet; ignoring')]);
    for (const [signal, handler] of installed) process.on(signal, handler);
    return () => {
      for (const [signal, handler] of installed) process.off(signal, handler);
    };
  }

  private cpuFor(slot: number, config: Config): number | null {
    if (!config.cpuAffinity || !this.cpus || this.cpus.length === 0) return null;
    return this.cpus[slot % this.cpus.length];
  }

  // ---- worker processes

  private spawn(slot: number, config: Config, version: number): Proc {
    const worker = cluster.fork();
    const ready = Promise.withResolvers<void>();
    const proc: Proc = {
      slot,
      worker,
      pid: worker.process.pid ?? 0,
      cpu: this.cpuFor(slot, config),
      state: 'starting',
      startedAt: Date.now(),
      configVersion: version,
      gracefulStopMs: config.timeouts.gracefulStopMs,
      ready: ready.promise,
      exited: new Promise((resolve) => worker.once('exit', (code: number | null, signal: string | null) => resolve({ code, signal }))),
      pending: new Map(),
    };
    this.procs.add(proc);
    let settled = false;
    const settle = (failure?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (failure === undefined) {
        if (proc.state === 'starting') proc.state = 'ready';
        ready.resolve();
      } else {
        ready.reject(new Error(`worker ${slot} failed to start: ${failure}`));
      }
    };
    const timer = setTimeout(() => {
      settle(`not ready after ${STARTUP_TIMEOUT_MS} ms`);
      worker.process.kill('SIGKILL');
    }, STARTUP_TIMEOUT_MS);
    worker.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      switch (m.type) {
        case 'booted':
          void this.pinAndStart(proc, config);
          break;
        case 'ready':
          settle();
          break;
        case 'startup-error':
          proc.reportedError = m.message;
          settle(m.message);
          break;
        case 'fatal':
          proc.reportedError = m.message;
          break;
        case 'final-metrics':
          proc.finalized = true;
          this.retained = this.retained.then((kept) => retainTotals(kept, m.metrics)).catch((err: unknown) => {
            this.log.warn({ err: errorMessage(err) }, 'could not keep a retired worker\'s metric totals');
            return undefined;
          });
          break;
        default:
          proc.pending.get(m.requestId)?.(m);
      }
    });
    // Sends to a worker that just died fail here; its exit is handled below.
    worker.on('error', (err: Error) => this.log.debug({ worker: slot, worker_pid: proc.pid, err: err.message }, 'worker IPC error'));
    void proc.exited.then((info) => {
      settle(`${describeExit(info)} before it was ready${proc.reportedError ? `: ${proc.reportedError}` : ''}`);
      this.onExit(proc, info);
    });
    return proc;
  }

  /** Pins before the worker has its configuration, so the threads it starts inherit the CPU. */
  private async pinAndStart(proc: Proc, config: Config): Promise<void> {
    if (proc.cpu !== null) {
      try {
        await pinToCpu(proc.pid, proc.cpu);
      } catch (err) {
        this.log.warn({ worker: proc.slot, worker_pid: proc.pid, cpu: proc.cpu, err: errorMessage(err) }, `cannot pin worker ${proc.slot} to CPU ${proc.cpu}; it runs unpinned`);
        proc.cpu = null;
      }
    }
    if (proc.state === 'starting') this.send(proc, { type: 'start', workerId: proc.slot, config });
  }

  private send(proc: Proc, message: ToWorker): void {
    proc.worker.send(message, undefined, undefined, (err: Error | null) => {
      if (err) this.log.debug({ worker: proc.slot, worker_pid: proc.pid, err: err.message }, `cannot send "${message.type}" to worker`);
    });
  }

  private ask(proc: Proc, type: 'stats' | 'metrics', timeoutMs: number): Promise<FromWorker> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => answer(new Error(`worker ${proc.slot} (pid ${proc.pid}) did not answer "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const answer = (reply: FromWorker | Error) => {
        clearTimeout(timer);
        proc.pending.delete(requestId);
        if (reply instanceof Error) reject(reply);
        else if (reply.type === 'request-failed') reject(new Error(reply.message));
        else resolve(reply);
      };
      proc.pending.set(requestId, answer);
      this.send(proc, { type, requestId });
    });
  }

  private async stats(proc: Proc): Promise<WorkerStats | undefined> {
    const reply = await this.ask(proc, 'stats', STATS_TIMEOUT_MS).catch(() => undefined);
    return reply?.type === 'stats' ? reply.stats : undefined;
  }

  private onExit(proc: Proc, info: ExitInfo): void {
    this.procs.delete(proc);
    for (const answer of proc.pending.values()) answer(new Error(`worker ${proc.slot} (pid ${proc.pid}) exited`));
    const slot = this.slots[proc.slot];
    // Not current: an old worker a reload retired, or a slot a reload removed.
    if (slot?.current !== proc) return;
    slot.current = undefined;
    // A failed start is handled by whoever started the worker; a stopping one was told to exit.
    if (this.stopMode !== undefined || proc.state !== 'ready') return;
    const why = `${describeExit(info)}${proc.reportedError ? `: ${proc.reportedError}` : ''}`;
    const fields = { worker: slot.id, worker_pid: proc.pid, code: info.code, signal: info.signal, reason: proc.reportedError };
    if (slot.swapping) {
      this.log.error(fields, `worker ${slot.id} (pid ${proc.pid}) ${why}; the reload is replacing it`);
      return;
    }
    const uptimeMs = Date.now() - proc.startedAt;
    if (uptimeMs >= STABLE_AFTER_MS) slot.backoffMs = BACKOFF_FIRST_MS;
    this.log.error(
      { ...fields, uptime_ms: uptimeMs, respawn_in_ms: slot.backoffMs },
      `worker ${slot.id} (pid ${proc.pid}) ${why}; respawning in ${slot.backoffMs} ms`,
    );
    this.scheduleRespawn(slot);
  }

  private scheduleRespawn(slot: Slot): void {
    const delay = slot.backoffMs;
    slot.backoffMs = Math.min(delay * 2, BACKOFF_MAX_MS);
    slot.respawnAt = Date.now() + delay;
    slot.respawnTimer = setTimeout(() => void this.respawn(slot), delay);
  }

  private async respawn(slot: Slot): Promise<void> {
    slot.respawnTimer = undefined;
    slot.respawnAt = undefined;
    slot.restarts++;
    const proc = this.spawn(slot.id, this.config, this.configVersion);
    slot.current = proc;
    try {
      await proc.ready;
      this.log.info({ worker: slot.id, worker_pid: proc.pid, cpu: proc.cpu }, `worker ${slot.id} respawned as pid ${proc.pid}`);
    } catch (err) {
      // Stopping, or a reload took this slot over (and fills it, or already has).
      const takenOver = slot.swapping || (slot.current !== undefined && slot.current !== proc);
      if (this.stopMode !== undefined || takenOver || this.slots[slot.id] !== slot) return;
      this.log.error(
        { worker: slot.id, reason: errorMessage(err), respawn_in_ms: slot.backoffMs },
        `${errorMessage(err)}; trying again in ${slot.backoffMs} ms`,
      );
      this.scheduleRespawn(slot);
    }
  }

  /** Tells a worker to stop and waits for it to exit, killing it if it overstays. */
  private async retire(proc: Proc, graceful: boolean): Promise<void> {
    const limit = (graceful ? proc.gracefulStopMs : 0) + KILL_MARGIN_MS;
    if (proc.state === 'starting') {
      // Nothing to drain yet, and it may not be listening for messages yet either.
      proc.worker.process.kill('SIGTERM');
    } else {
      this.send(proc, { type: 'shutdown', graceful });
    }
    proc.state = 'stopping';
    const timer = setTimeout(() => {
      this.log.warn({ worker: proc.slot, worker_pid: proc.pid }, `worker ${proc.slot} (pid ${proc.pid}) did not exit within ${limit} ms of being told to stop; killing it`);
      proc.worker.process.kill('SIGKILL');
    }, limit);
    await proc.exited;
    clearTimeout(timer);
  }

  // ---- stop

  private stop(graceful: boolean): Promise<void> {
    if (this.stopMode === undefined) {
      this.stopMode = graceful ? 'graceful' : 'fast';
      this.log.info({ graceful }, graceful ? 'stopping gracefully' : 'stopping');
      for (const slot of this.slots) {
        clearTimeout(slot.respawnTimer);
        slot.respawnAt = undefined;
      }
      void Promise.all([...this.procs].map((p) => this.retire(p, graceful))).then(async () => {
        if (this.admin) await closeAdmin(this.admin);
        this.log.info('stopped: every worker has exited');
        this.stopped.resolve();
      });
    } else if (!graceful && this.stopMode === 'graceful') {
      this.stopMode = 'fast';
      this.log.info('fast stop requested during a graceful stop');
      for (const p of this.procs) void this.retire(p, false);
    }
    return this.stopped.promise;
  }

  // ---- reload

  /** Reloads; a request during a reload is served by one more reload after it, shared by all who ask. */
  private reload(): Promise<ReloadReply> {
    if (!this.reloadRunning) {
      this.reloadRunning = this.replaceWorkers().finally(() => {
        this.reloadRunning = undefined;
      });
      return this.reloadRunning;
    }
    this.reloadQueued ??= this.reloadRunning.then(() => {
      this.reloadQueued = undefined;
      return this.reload();
    });
    return this.reloadQueued;
  }

  private async replaceWorkers(): Promise<ReloadReply> {
    const fail = (error: string): ReloadReply => {
      this.log.error({ error }, `reload failed: ${error}`);
      return { ok: false, error };
    };
    if (this.stopMode !== undefined) return fail('frontline is stopping');
    if (!this.started) return fail('frontline is still starting');
    let loaded: Config;
    try {
      loaded = this.load();
    } catch (err) {
      return fail(`${err instanceof ConfigError ? err.message : errorMessage(err)}\nkeeping the current configuration`);
    }
    const blocked = reloadBlocker(this.config, loaded);
    if (blocked) return fail(`${blocked}; restart frontline to apply it (nothing was changed)`);
    let next: Config;
    let chosen: Map<string, number[]>;
    try {
      ({ config: next, chosen } = await this.choosePorts(loaded));
    } catch (err) {
      return fail(`cannot choose a port for a listener with port 0: ${errorMessage(err)}`);
    }
    const warnings: string[] = [];
    const controlPath = controlSocketPath(next.controlSocket);
    if (controlPath !== this.control?.path) {
      warnings.push(`control_socket changes only at a restart: still listening on ${this.control?.path}, not ${controlPath}`);
    }
    const previous = this.configVersion;
    const version = previous + 1;
    this.log.info({ config_version: version, source: next.source }, 'reloading: replacing workers one at a time');
    for (let id = 0; id < next.workers; id++) {
      if (this.stopMode !== undefined) return fail(`frontline is stopping; the reload stopped after ${id} of ${next.workers} workers`);
      const error = await this.replaceSlot(id, next, version);
      if (error !== undefined && id === 0) return fail(`${error}\nkeeping the current configuration`);
      if (error !== undefined) {
        return fail(`${error}; workers 0-${id - 1} run configuration version ${version}, the others version ${previous}`);
      }
      // The first new worker started: the configuration is good, and from now on it is the one respawns use.
      if (id === 0) await this.commit(next, version, chosen, warnings);
    }
    for (const slot of this.slots.splice(next.workers)) {
      clearTimeout(slot.respawnTimer);
      if (slot.current) await this.retire(slot.current, true);
    }
    for (const w of warnings) this.log.warn(w);
    this.log.info({ config_version: version, workers: next.workers, listeners: listenerUrls(next.listeners) }, 'reloaded');
    return { ok: true, configVersion: version, warnings };
  }

  /**
   * Starts the new worker, waits until it is ready, then retires the old one and waits for it to
   * exit: at most one extra worker exists at any time, and the listening port always has a
   * socket accepting (with reuseport, closing the old socket first would refuse connections).
   * Resolves to a reason if the new worker did not start.
   */
  private async replaceSlot(id: number, next: Config, version: number): Promise<string | undefined> {
    const slot = (this.slots[id] ??= newSlot(id));
    slot.swapping = true;
    clearTimeout(slot.respawnTimer);
    slot.respawnAt = undefined;
    const old = slot.current;
    const fresh = this.spawn(id, next, version);
    try {
      await fresh.ready;
    } catch (err) {
      slot.swapping = false;
      if (!slot.current && this.stopMode === undefined) this.scheduleRespawn(slot);
      return errorMessage(err);
    }
    slot.swapping = false;
    slot.current = fresh;
    this.log.info({ worker: id, worker_pid: fresh.pid, old_pid: old?.pid, config_version: version }, `worker ${id} replaced`);
    if (old) await this.retire(old, true);
    return undefined;
  }

  private async commit(next: Config, version: number, chosen: Map<string, number[]>, warnings: string[]): Promise<void> {
    const before = this.config.metrics;
    this.config = next;
    this.configVersion = version;
    this.chosenPorts = chosen;
    this.log.level = next.logging.level;
    const m = next.metrics;
    if (before.enabled === m.enabled && before.address === m.address && before.port === m.port) return;
    if (this.admin) await closeAdmin(this.admin);
    this.admin = undefined;
    if (!m.enabled) return;
    try {
      this.admin = await this.listenAdmin(next);
    } catch (err) {
      warnings.push(`cannot listen for metrics on ${m.address}:${m.port}: ${errorMessage(err)}; metrics are off until a reload fixes it`);
    }
  }

  /** Port-0 listeners get a free port, chosen once and kept across reloads, so all workers agree on it. */
  private async choosePorts(config: Config): Promise<{ config: Config; chosen: Map<string, number[]> }> {
    const previous = new Map([...this.chosenPorts].map(([address, ports]) => [address, [...ports]]));
    const chosen = new Map<string, number[]>();
    const listeners: ListenerConfig[] = [];
    for (const l of config.listeners) {
      if (l.port !== 0) {
        listeners.push(l);
        continue;
      }
      const port = previous.get(l.address)?.shift() ?? (await freePort(l.address));
      chosen.set(l.address, [...(chosen.get(l.address) ?? []), port]);
      listeners.push({ ...l, port });
    }
    return { config: { ...config, listeners }, chosen };
  }

  // ---- control socket, admin listener

  private async onControl(request: ControlRequest): Promise<ControlReply> {
    switch (request.command) {
      case 'status':
        return { ok: true, status: await this.status() };
      case 'reload':
        return this.reload();
      case 'stop':
        await this.stop(request.graceful);
        return { ok: true, stopped: true };
    }
  }

  private listenAdmin(config: Config): Promise<Server> {
    return listenAdmin(config.metrics.address, config.metrics.port, {
      metrics: () => this.metrics(),
      status: () => this.status(),
    });
  }

  private metricsUrl(): string | null {
    const address = this.admin?.address() as AddressInfo | null | undefined;
    return address ? `http://${hostPort(address.address, address.port)}/metrics` : null;
  }

  private async metrics(): Promise<{ contentType: string; text: string }> {
    // Draining workers still count until their final figures have joined the retained totals;
    // the totals are taken first, so a worker finalized during this scrape is counted once.
    const retainedNow = this.retained;
    const ready = [...this.procs].filter((p) => (p.state === 'ready' || p.state === 'stopping') && !p.finalized);
    const perWorker = await Promise.all(
      ready.map((p) =>
        this.ask(p, 'metrics', METRICS_TIMEOUT_MS).then(
          (reply) => (reply.type === 'metrics' ? reply.metrics : undefined),
          (err: unknown) => {
            this.log.warn({ worker: p.slot, worker_pid: p.pid, err: errorMessage(err) }, 'metrics: a worker is left out');
            return undefined;
          },
        ),
      ),
    );
    const retained = await retainedNow;
    const sets = perWorker.filter((m) => m !== undefined);
    if (retained !== undefined) sets.push(retained);
    return aggregateMetrics(sets, { workers: this.procs.size, configVersion: this.configVersion });
  }

  private async status(): Promise<StatusReport> {
    const now = Date.now();
    const workers = await Promise.all(
      [...this.procs].map(async (p): Promise<WorkerStatus> => {
        const stats = p.state === 'starting' ? undefined : await this.stats(p);
        return {
          id: p.slot,
          pid: p.pid,
          cpu: p.cpu,
          state: p.state,
          uptimeMs: now - p.startedAt,
          configVersion: p.configVersion,
          restarts: this.slots[p.slot]?.restarts ?? 0,
          connectionsAccepted: stats?.connectionsAccepted ?? null,
          connectionsOpen: stats?.connectionsOpen ?? null,
          requests: stats?.requests ?? null,
          requestsActive: stats?.requestsActive ?? null,
        };
      }),
    );
    for (const slot of this.slots) {
      if (slot.respawnAt === undefined) continue;
      workers.push({
        id: slot.id,
        pid: null,
        cpu: this.cpuFor(slot.id, this.config),
        state: 'respawning',
        uptimeMs: 0,
        configVersion: null,
        restarts: slot.restarts,
        connectionsAccepted: null,
        connectionsOpen: null,
        requests: null,
        requestsActive: null,
      });
    }
    workers.sort((a, b) => a.id - b.id || b.uptimeMs - a.uptimeMs);
    return {
      pid: process.pid,
      uptimeMs: now - this.startedAt,
      configVersion: this.configVersion,
      configSource: this.config.source,
      distribution: this.config.distribution,
      listeners: listenerUrls(this.config.listeners),
      metrics: this.metricsUrl(),
      controlSocket: this.control?.path ?? '',
      reloading: this.reloadRunning !== undefined,
      workers,
    };
  }
}

function newSlot(id: number): Slot {
  return { id, restarts: 0, backoffMs: BACKOFF_FIRST_MS, swapping: false };
}

/**
 * Why `next` cannot replace `current` by a reload, if it cannot. The cluster scheduling policy is
 * fixed at the first fork, and the listening sockets stay bound while any old worker uses them: a
 * socket held by the primary (shared, round-robin) is not SO_REUSEPORT, so a new listener on the
 * same port with another address would collide with it, as would switching to or from reuseport.
 * Adding and removing listeners works: the primary binds new ones on demand and closes an old one
 * when its last worker is gone.
 */
function reloadBlocker(current: Config, next: Config): string | undefined {
  if (next.distribution !== current.distribution) {
    return `distribution changes from ${current.distribution} to ${next.distribution}, which cannot happen while the listening sockets are in use`;
  }
  if (current.distribution === 'reuseport') return undefined;
  for (const l of next.listeners) {
    const clash = current.listeners.find((o) => o.port !== 0 && o.port === l.port && o.address !== l.address);
    if (clash) {
      return `listener ${hostPort(l.address, l.port)} takes the port of ${hostPort(clash.address, clash.port)}, whose socket the primary holds (distribution ${current.distribution}) until its last old worker stops`;
    }
  }
  return undefined;
}

function listenerUrls(listeners: ListenerConfig[]): string[] {
  return listeners.map((l) => `${l.tls ? 'https' : 'http'}://${hostPort(l.address, l.port)}`);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function describeExit(info: ExitInfo): string {
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, address, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
