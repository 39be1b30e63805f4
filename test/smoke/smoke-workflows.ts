// A minimal workflow for the harness smoke test: proves the Temporal server, a worker, Postgres and
// S3 are all real. Not part of the service.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { SmokeActivities } from './smoke-activities.ts';

export const proceedSignal = defineSignal('proceed');

const { writeMarker } = proxyActivities<SmokeActivities>({ startToCloseTimeout: '30s' });

export async function smokeWorkflow(name: string): Promise<string[]> {
  let proceed = false;
  setHandler(proceedSignal, () => {
    proceed = true;
  });
  const first = await writeMarker(`${name}-1`);
  await condition(() => proceed);
  const second = await writeMarker(`${name}-2`);
  return [first, second];
}
