/**
 * The broker transports under faults, each on a private stack with a broker of its own (Kafka,
 * ElasticMQ with standard queues, ElasticMQ with FIFO queues): the worker process SIGKILLed in the
 * middle of a replay, and the broker restarted in the middle of one. Afterwards every object was
 * delivered at least once and nothing else was; the duplicates are counted (a page whose broker acks
 * came before a transaction that never committed is sent again) and must be zero on FIFO queues,
 * which drop a resent message id. pg-boss's own faults (exactly once) are in worker-kill.test.ts and
 * service-outages.test.ts (Postgres, its broker, restarted). Run by broker-faults-kafka.test.ts and
 * broker-faults-sqs.test.ts (two files, so that they run side by side).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateStack, type PrivateStack } from '../support/private-stack.ts';
import type { TestTransport } from '../support/transports.ts';
import { expectDeliveredAtLeastOnce, seedParent, startReplay, waitForRecord } from './helpers.ts';

const OBJECTS = 1200;

export function brokerFaultSuite(transport: Exclude<TestTransport, 'pgboss'>): void {
  describe(transport, () => {
    let stack: PrivateStack;
    let parentId: string;
    let keys: string[];

    beforeAll(async () => {
      stack = await startPrivateStack({ transport });
      ({ parentId, keys } = await seedParent(stack, OBJECTS));
    }, 240_000);
    afterAll(async () => stack?.close());

    /** Waits until a fraction of the replay is published; it must still be running. */
    async function underWay(id: string, fraction: number): Promise<void> {
      const record = await waitForRecord(
        stack,
        id,
        (item) => item.published_count >= fraction * OBJECTS || item.status !== 'running',
        90_000,
      );
      expect(record.status).toBe('running');
    }

    function report(fault: string, result: { deliveries: number; duplicates: number }) {
      process.stdout.write(
        `[faults] ${transport}, ${fault}: ${result.deliveries} deliveries of ${OBJECTS} objects, ${result.duplicates} duplicates\n`,
      );
      if (transport === 'sqs-fifo') expect(result.duplicates).toBe(0);
    }

    it('delivers every object at least once when the worker is SIGKILLed mid-replay', async () => {
      let worker = stack.startWorkerProcess();
      await worker.polling();
      const id = await startReplay(stack, parentId);
      await underWay(id, 0.4);
      worker.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');
      worker = stack.startWorkerProcess();

      await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
      report('worker SIGKILL', await expectDeliveredAtLeastOnce(stack, id, keys));
      worker.kill('SIGTERM');
      await worker.exited;
    }, 240_000);

    it('delivers every object at least once when the broker restarts mid-replay', async () => {
      const worker = await stack.startInProcessWorker();
      const id = await startReplay(stack, parentId);
      await underWay(id, 0.3);
      await stack.restartBroker(2000);

      await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
      report('broker restart', await expectDeliveredAtLeastOnce(stack, id, keys));
      // the worker rode out the outage
      expect(worker.handle.isRunning()).toBe(true);
    }, 240_000);
  });
}
