/** `POST .../replay` latency at several concurrencies, measured with autocannon against the api process. */
import autocannon from 'autocannon';

export interface LatencyRow {
  concurrency: number;
  requests: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  non_2xx: number;
}

export async function measureReplayLatency(
  apiUrl: string,
  apiKey: string,
  parentId: string,
  concurrency: number,
  requests: number,
): Promise<LatencyRow> {
  const result = await autocannon({
    url: `${apiUrl}/api/v1/executions/${parentId}/replay`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
    }),
    connections: concurrency,
    amount: requests,
    timeout: 30,
  });
  return {
    concurrency,
    requests: result.requests.total,
    p50_ms: result.latency.p50,
    // autocannon reports p97.5, not p95: the nearest percentile it gives, and the stricter one
    p95_ms: result.latency.p97_5,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
  };
}
