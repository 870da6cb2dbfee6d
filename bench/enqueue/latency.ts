/** One round's latencies, summarised (milliseconds, two decimals). */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  refused: number;
  achievedRate: number;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export const median = (xs: number[]) => percentile(xs, 50);

export function latencySummary(lat: number[], refused: number, achievedRate: number): LatencySummary {
  const r2 = (x: number) => +x.toFixed(2);
  return {
    p50: r2(percentile(lat, 50)),
    p95: r2(percentile(lat, 95)),
    p99: r2(percentile(lat, 99)),
    refused,
    achievedRate: +achievedRate.toFixed(1),
  };
}
