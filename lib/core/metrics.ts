/** Where counts go: CloudWatch (EMF) in Lambda, nowhere locally; names are in METRIC (lib/aws/observability.ts). */
export interface MetricsSink {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
}

export const noMetrics: MetricsSink = { count() {} };
