// Per-worker Prometheus metrics. The primary collects each worker's registry as JSON and sums
// them (aggregate.ts); series labelled `worker` stay per worker.
//
// The per-request series are kept in plain objects and turned into prom-client's form only when
// collected. prom-client's own children hash their label values on every inc()/observe(), even
// when the child is cached; measured, requestFinished cost ~1.3 µs that way and under 0.1 µs this way.
import { Gauge, Registry, type Aggregator, type Metric } from 'prom-client';
import type { RouteConfig } from '../config/types.ts';
import type { RequestContext } from '../proxy/context.ts';

export interface UpstreamSnapshot {
  upstream: string;
  origin: string;
  healthy: boolean;
  pool: { connected: number; free: number; pending: number; running: number };
}

/** Seconds, from half a millisecond (a cache hit) to the slowest origins. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BLOCKED_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** How often the event loop is sampled: the shortest stall that is reliably seen. */
const SAMPLE_INTERVAL_MS = 10;
const POOL_STATES = ['connected', 'free', 'pending', 'running'] as const;

type Labels = Record<string, string>;

/** One value of a metric in prom-client's JSON form (what getMetricsAsJSON yields). */
export interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export interface MetricJSON {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: Aggregator;
  values: MetricValue[];
}

/**
 * prom-client's Registry reads a metric only through its name, type, aggregator and get();
 * AggregatorRegistry registers plain objects the same way. The cast is for its declared type,
 * which names only its own classes.
 */
export function register(registry: Registry, metric: { name: string; get(): Promise<MetricJSON> }): void {
  registry.registerMetric(metric as unknown as Metric);
}

class ValueSeries {
  readonly labels: Labels;
  value = 0;
  constructor(labels: Labels) {
    this.labels = labels;
  }
}

/** A counter or gauge: one number per label set. */
class ValueFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly #series = new Map<string, ValueSeries>();

  constructor(registry: Registry, type: 'counter' | 'gauge', name: string, help: string) {
    this.name = name;
    this.help = help;
    this.type = type;
    register(registry, this);
  }

  series(labels: Labels): ValueSeries {
    const key = Object.values(labels).join('\0');
    let series = this.#series.get(key);
    if (!series) {
      series = new ValueSeries(labels);
      this.#series.set(key, series);
    }
    return series;
  }

  async get(): Promise<MetricJSON> {
    const values: MetricValue[] = [];
    for (const s of this.#series.values()) values.push({ labels: s.labels, value: s.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }
}

class HistogramSeries {
  readonly labels: Labels;
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; those above the last bound only in count. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram's counts (per bucket, not cumulative) as prom-client's cumulative bucket, sum and count values. */
export function pushHistogramValues(
  values: MetricValue[],
  name: string,
  labels: Labels,
  histogram: { bounds: readonly number[]; counts: readonly number[]; sum: number; count: number },
): void {
  const bucket = name + '_bucket';
  let cumulative = 0;
  histogram.bounds.forEach((le, i) => {
    cumulative += histogram.counts[i];
    values.push({ labels: { ...labels, le }, value: cumulative, metricName: bucket });
  });
  values.push(
    { labels: { ...labels, le: '+Inf' }, value: histogram.count, metricName: bucket },
    { labels, value: histogram.sum, metricName: name + '_sum' },
    { labels, value: histogram.count, metricName: name + '_count' },
  );
}

class HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(registry: Registry, name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    register(registry, this);
  }

  series(labels: Labels): HistogramSeries {
    const key = Object.values(labels).join('\0');
    let series = this.#series.get(key);
    if (!series) {
      series = new HistogramSeries(labels, this.#bounds);
      this.#series.set(key, series);
    }
    return series;
  }

  async get(): Promise<MetricJSON> {
    const values: MetricValue[] = [];
    for (const s of this.#series.values()) pushHistogramValues(values, this.name, s.labels, s);
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }
}

interface RouteSeries {
  label: string;
  duration: HistogramSeries;
  ttfb: HistogramSeries;
  upstreamFirstByte: HistogramSeries | undefined;
  requests: Map<number, ValueSeries>;
}

/** Per-rule match counters of one phase; series are kept per rule so a match costs one map lookup. */
export interface RuleCounters {
  matched(ruleId: string, action: string): void;
}

export class WorkerMetrics {
  /** Other parts of the worker (thread pools, cache) may register their own metrics here. */
  readonly registry = new Registry();
  readonly #requests: ValueFamily;
  readonly #duration: HistogramFamily;
  readonly #ttfb: HistogramFamily;
  readonly #upstreamFirstByte: HistogramFamily;
  readonly #upstreamErrors: ValueFamily;
  readonly #clientErrors: ValueFamily;
  readonly #clientErrorsByStatus = new Map<number, ValueSeries>();
  readonly #connectionsAccepted: ValueSeries;
  readonly #connectionsOpen: ValueSeries;
  readonly #workerRequests: ValueSeries;
  readonly #blocked: HistogramSeries;
  readonly #ruleMatches: ValueFamily;
  // Keyed by the route object, found without building a label string; a reload brings new
  // objects, which find the same series through their label, and the old keys are collected.
  readonly #routes = new WeakMap<RouteConfig, RouteSeries>();
  #noRoute: RouteSeries | undefined;
  #snapshot: () => UpstreamSnapshot[] = () => [];
  readonly #sampler: NodeJS.Timeout;

  constructor(workerId: number) {
    const registry = this.registry;
    const worker = { worker: String(workerId) };
    this.#requests = new ValueFamily(registry, 'counter', 'frontline_requests_total', 'Requests answered, by route and status.');
    this.#duration = new HistogramFamily(
      registry,
      'frontline_request_duration_seconds',
      'Time from request start to the last byte written.',
      LATENCY_BUCKETS,
    );
    this.#ttfb = new HistogramFamily(
      registry,
      'frontline_ttfb_seconds',
      'Time from request start to the first byte written to the client.',
      LATENCY_BUCKETS,
    );
    this.#upstreamFirstByte = new HistogramFamily(
      registry,
      'frontline_upstream_response_seconds',
      'Time from sending a request upstream to the first byte of its response.',
      LATENCY_BUCKETS,
    );
    this.#upstreamErrors = new ValueFamily(
      registry,
      'counter',
      'frontline_upstream_errors_total',
      'Failed upstream attempts, by kind of failure.',
    );
    this.#clientErrors = new ValueFamily(
      registry,
      'counter',
      'frontline_client_errors_total',
      'Requests rejected before they could be parsed (400, 408, 413, 417, 431, 501, 505), by status.',
    );
    this.#connectionsAccepted = new ValueFamily(
      registry,
      'counter',
      'frontline_worker_connections_accepted_total',
      'Client connections accepted by this worker.',
    ).series(worker);
    this.#connectionsOpen = new ValueFamily(
      registry,
      'gauge',
      'frontline_worker_connections_open',
      'Client connections open in this worker.',
    ).series(worker);
    this.#workerRequests = new ValueFamily(
      registry,
      'counter',
      'frontline_worker_requests_total',
      'Requests received by this worker.',
    ).series(worker);
    this.#blocked = new HistogramFamily(
      registry,
      'frontline_event_loop_blocked_seconds',
      `How late this worker's event loop ran a timer due every ${SAMPLE_INTERVAL_MS} ms: how long it could not run anything.`,
      BLOCKED_BUCKETS,
    ).series(worker);
    this.#ruleMatches = new ValueFamily(
      registry,
      'counter',
      'frontline_rule_matches_total',
      'Requests that matched a rule, by phase (firewall, waf), rule id and action.',
    );
    // Read once per scrape, so prom-client's own gauges serve.
    const snapshot = (): UpstreamSnapshot[] => this.#snapshot();
    new Gauge({
      name: 'frontline_upstream_pool_connections',
      help: "Connections in this worker's pool to an origin, by state.",
      labelNames: ['upstream', 'origin', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of snapshot()) {
          for (const state of POOL_STATES) this.labels(s.upstream, s.origin, state).set(s.pool[state]);
        }
      },
    });
    new Gauge({
      name: 'frontline_upstream_healthy',
      help: 'Whether an origin is in use (1) or ejected (0).',
      labelNames: ['upstream', 'origin'],
      // Across workers: healthy only if every worker considers it so.
      aggregator: 'min',
      registers: [registry],
      collect() {
        this.reset();
        for (const s of snapshot()) this.labels(s.upstream, s.origin).set(s.healthy ? 1 : 0);
      },
    });
    this.#sampler = this.#startSampler();
  }

  ruleCounters(phase: string): RuleCounters {
    const family = this.#ruleMatches;
    const byRule = new Map<string, ValueSeries>();
    return {
      matched(ruleId, action) {
        const key = `${ruleId}\0${action}`;
        let series = byRule.get(key);
        if (series === undefined) {
          series = family.series({ phase, rule: ruleId, action });
          byRule.set(key, series);
        }
        series.value++;
      },
    };
  }

  connectionOpened(): void {
    this.#connectionsAccepted.value++;
    this.#connectionsOpen.value++;
  }

  connectionClosed(): void {
    this.#connectionsOpen.value--;
  }

  requestStarted(): void {
    this.#workerRequests.value++;
  }

  requestFinished(ctx: RequestContext): void {
    const route = ctx.route;
    const series = route
      ? (this.#routes.get(route) ?? this.#addRoute(route))
      : (this.#noRoute ??= this.#series('none', undefined));
    let requests = series.requests.get(ctx.status);
    if (!requests) {
      requests = this.#requests.series({ route: series.label, status: String(ctx.status) });
      series.requests.set(ctx.status, requests);
    }
    requests.value++;
    const t = ctx.timings;
    // A request that ended without its end being timed ends now.
    series.duration.observe((t.totalMs >= 0 ? t.totalMs : performance.now() - ctx.start) / 1000);
    if (t.ttfbMs >= 0) series.ttfb.observe(t.ttfbMs / 1000);
    if (t.upstreamFirstByteMs >= 0 && series.upstreamFirstByte) {
      series.upstreamFirstByte.observe(t.upstreamFirstByteMs / 1000);
    }
  }

  upstreamError(upstream: string, kind: string): void {
    this.#upstreamErrors.series({ upstream, kind }).value++;
  }

  clientError(status: number): void {
    let series = this.#clientErrorsByStatus.get(status);
    if (!series) {
      series = this.#clientErrors.series({ status: String(status) });
      this.#clientErrorsByStatus.set(status, series);
    }
    series.value++;
  }

  /** The pools and health of this worker's origins, read when metrics are collected. */
  setUpstreamSnapshot(fn: () => UpstreamSnapshot[]): void {
    this.#snapshot = fn;
  }

  /** This worker's metrics in prom-client's JSON form, for the primary to aggregate. */
  metricsJSON(): Promise<unknown[]> {
    return this.registry.getMetricsAsJSON();
  }

  close(): void {
    clearInterval(this.#sampler);
  }

  #addRoute(route: RouteConfig): RouteSeries {
    const series = this.#series((route.host ?? '*') + route.path, route.upstream);
    this.#routes.set(route, series);
    return series;
  }

  #series(label: string, upstream: string | undefined): RouteSeries {
    return {
      label,
      duration: this.#duration.series({ route: label }),
      ttfb: this.#ttfb.series({ route: label }),
      upstreamFirstByte: upstream === undefined ? undefined : this.#upstreamFirstByte.series({ upstream }),
      requests: new Map(),
    };
  }

  /**
   * Measures event-loop stalls with a timer due every SAMPLE_INTERVAL_MS: how late it runs is how
   * long the loop could not run anything. Chosen over monitorEventLoopDelay, whose histogram
   * exposes only percentiles: folding those into fixed buckets miscounts exactly the rare long
   * stalls this metric exists for, while here each stall is one exact observation.
   */
  #startSampler(): NodeJS.Timeout {
    let last = performance.now();
    return setInterval(() => {
      const now = performance.now();
      const late = now - last - SAMPLE_INTERVAL_MS;
      last = now;
      this.#blocked.observe(late > 0 ? late / 1000 : 0);
    }, SAMPLE_INTERVAL_MS).unref();
  }
}
