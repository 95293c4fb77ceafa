// The primary's /metrics: every worker's registry (WorkerMetrics.metricsJSON) merged into one
// exposition. Series with the same labels are summed across workers (each metric may name its
// own aggregator); series labelled `worker` differ by that label and so stay per worker.
import { AggregatorRegistry, Gauge, Registry } from 'prom-client';

/** Facts only the primary knows, exposed beside the workers' metrics. */
export interface PrimaryMetrics {
  /** Worker processes running now. */
  workers: number;
  /** Increases with every configuration loaded (start and each reload). */
  configVersion: number;
}

/**
 * Folds a retired worker's final counters and histograms into what the primary keeps from
 * earlier ones, so that totals across a reload or respawn never go down (Prometheus would read
 * a drop as a counter reset). Gauges describe the moment and are left out.
 */
export async function retainTotals(retained: unknown[] | undefined, final: unknown[]): Promise<unknown[]> {
  const totals = final.filter((m) => {
    const type = (m as { type?: string }).type;
    return type === 'counter' || type === 'histogram';
  });
  return AggregatorRegistry.aggregate(retained ? [retained, totals] : [totals]).getMetricsAsJSON();
}

export async function aggregateMetrics(
  perWorker: unknown[][],
  primary?: PrimaryMetrics,
): Promise<{ contentType: string; text: string }> {
  const sets: object[] = primary ? [...perWorker, await primaryMetricsJSON(primary)] : perWorker;
  const registry = AggregatorRegistry.aggregate(sets);
  return { contentType: registry.contentType, text: await registry.metrics() };
}

function primaryMetricsJSON(primary: PrimaryMetrics): Promise<unknown[]> {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({ name: 'frontline_workers', help: 'Worker processes running.', registers }).set(primary.workers);
  new Gauge({
    name: 'frontline_config_version',
    help: 'Number of the configuration in use; increases with every reload.',
    registers,
  }).set(primary.configVersion);
  return registry.getMetricsAsJSON();
}
