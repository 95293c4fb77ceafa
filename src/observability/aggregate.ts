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
