/**
 * The bare ceiling's worker process: two Temporal workers on the same server, with the options the
 * replay worker uses (worker.ts), one for the workflow task queue and one for the activity queue.
 * Configured by CEILING_TEMPORAL_ADDRESS and CEILING_TASK_QUEUE.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ceilingActivities } from './activities.ts';

const address = process.env.CEILING_TEMPORAL_ADDRESS ?? 'localhost:7233';
const taskQueue = process.env.CEILING_TASK_QUEUE ?? 'ceiling';
Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
const connection = await NativeConnection.connect({ address });
const workers = await Promise.all([
  Worker.create({
    connection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    activities: ceilingActivities,
  }),
  Worker.create({
    connection,
    taskQueue: `${taskQueue}-activities`,
    activities: ceilingActivities,
    maxConcurrentActivityTaskExecutions: 8,
  }),
]);
process.stdout.write('ceiling worker started\n');
await Promise.all(workers.map((worker) => worker.run()));
await connection.close();
