/**
 * The bare ceiling's worker process: two Temporal workers on the same server, with the options the
 * replay worker uses (worker.ts), one for the workflow task queue and one for the activity queue.
 * Configured by CEILING_TASK_QUEUE and the TEMPORAL_* settings (adapters/temporal-connection.ts).
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { nativeConnectionOptions, temporalSettingsFromEnv } from '../../adapters/temporal-connection.ts';
import { ceilingActivities } from './activities.ts';

const settings = temporalSettingsFromEnv(process.env);
const taskQueue = process.env.CEILING_TASK_QUEUE ?? 'ceiling';
Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
const connection = await NativeConnection.connect(nativeConnectionOptions(settings));
const workers = await Promise.all([
  Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    activities: ceilingActivities,
  }),
  Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: `${taskQueue}-activities`,
    activities: ceilingActivities,
    maxConcurrentActivityTaskExecutions: 8,
  }),
]);
process.stdout.write('ceiling worker started\n');
await Promise.all(workers.map((worker) => worker.run()));
await connection.close();
