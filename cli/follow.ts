/**
 * `--follow`: polls a replay (or a bulk replay) until it finishes, drawing a live progress bar
 * (cli-progress) on stderr, or, with `--json`, printing one JSON object per poll on stdout.
 */
import cliProgress from 'cli-progress';
import { call, type ApiClient, type ApiTarget, type Schemas } from './client.ts';
import { sleep } from '../adapters/sleep.ts';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
/** Seconds of samples the rate is measured over. */
const RATE_WINDOW_MS = 5000;

export interface Output {
  json: boolean;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const printJson = (output: Output, value: unknown) =>
  output.stdout.write(`${JSON.stringify(value)}\n`);

/** Messages/s over the last few seconds of samples. */
export class RateMeter {
  private samples: { at: number; value: number }[] = [];

  add(value: number, at = Date.now()): number {
    this.samples.push({ at, value });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? Math.max(0, (value - first.value) / seconds) : 0;
  }
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

function bar(output: Output, format: string) {
  return new cliProgress.SingleBar(
    {
      format,
      stream: output.stderr,
      hideCursor: output.stderr.isTTY === true,
      // without a terminal: a plain line per update, at most once a second
      noTTYOutput: output.stderr.isTTY !== true,
      notTTYSchedule: 1000,
      barsize: 30,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
}

export interface FollowedReplay {
  detail: Schemas['ExecutionDetail'];
}

/**
 * Follows one execution until it is completed, failed or cancelled. `total` resolves (or not) to
 * the number of messages the replay publishes in all (its preview's count): the bar's end and the
 * ETA; until then the bar ends at what is listed.
 */
export async function followReplay(
  client: ApiClient,
  target: ApiTarget,
  id: string,
  output: Output,
  options: { intervalMs: number; total?: Promise<number | undefined> },
): Promise<Schemas['ExecutionDetail']> {
  let total: number | undefined;
  void options.total?.then((count) => (total = count)).catch(() => {});
  const meter = new RateMeter();
  const progressBar = output.json
    ? undefined
    : bar(
        output,
        '{state} |{bar}| {value}/{total} published | listed {listed} | {rate} msg/s | ETA {remaining}',
      );
  let started = false;
  try {
    for (;;) {
      const { data: detail } = await call(
        target,
        client.GET('/api/v1/executions/{execution_id}', { params: { path: { execution_id: id } } }),
      );
      const { listed, published } = detail.progress;
      const rate = meter.add(published);
      const end = total ?? Math.max(listed, published);
      const paused = detail.progress.paused;
      const finished = FINISHED.has(detail.status);
      const eta = finished
        ? 0
        : total !== undefined && rate > 0 && !paused
          ? Math.max(0, (total - published) / rate)
          : null;
      const state = paused ? 'paused' : detail.status;
      if (output.json) {
        printJson(output, {
          ...detail,
          follow: {
            messages_per_second: Math.round(rate * 10) / 10,
            total: total ?? null,
            eta_seconds: eta === null ? null : Math.round(eta),
          },
        });
      } else {
        const payload = { state, listed, rate: Math.round(rate), remaining: formatDuration(eta) };
        if (!started) progressBar!.start(Math.max(end, 1), published, payload);
        started = true;
        progressBar!.setTotal(Math.max(end, published, 1));
        progressBar!.update(published, payload);
      }
      if (finished) return detail;
      await sleep(options.intervalMs);
    }
  } finally {
    progressBar?.stop();
  }
}

/** Follows a bulk replay until it has finished: its children counted by status. */
export async function followBulkReplay(
  client: ApiClient,
  target: ApiTarget,
  id: string,
  output: Output,
  options: { intervalMs: number },
): Promise<Schemas['BulkReplayResponse']> {
  const meter = new RateMeter();
  const progressBar = output.json
    ? undefined
    : bar(
        output,
        '{state} |{bar}| {value}/{total} children finished | started {started} | failed {failed} | cancelled {cancelled} | ETA {remaining}',
      );
  let started = false;
  try {
    for (;;) {
      const { data: bulk } = await call(
        target,
        client.GET('/api/v1/bulk-replays/{bulk_replay_id}', { params: { path: { bulk_replay_id: id } } }),
      );
      const done = bulk.completed + bulk.failed + bulk.cancelled;
      const rate = meter.add(done);
      const finished = FINISHED.has(bulk.status);
      const eta = finished ? 0 : rate > 0 ? (bulk.total - done) / rate : null;
      if (output.json) {
        printJson(output, {
          ...bulk,
          follow: {
            children_per_second: Math.round(rate * 100) / 100,
            eta_seconds: eta === null ? null : Math.round(eta),
          },
        });
      } else {
        const payload = {
          state: bulk.status,
          started: bulk.started,
          failed: bulk.failed,
          cancelled: bulk.cancelled,
          remaining: formatDuration(eta),
        };
        if (!started) progressBar!.start(Math.max(bulk.total, 1), done, payload);
        started = true;
        progressBar!.setTotal(Math.max(bulk.total, 1));
        progressBar!.update(done, payload);
      }
      if (finished) return bulk;
      await sleep(options.intervalMs);
    }
  } finally {
    progressBar?.stop();
  }
}
