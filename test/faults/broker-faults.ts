/**
 * The broker transports under faults, each on a private stack with a broker of its own (Kafka,
 * ElasticMQ with standard queues, ElasticMQ with FIFO queues): the worker process SIGKILLed in the
 * middle of a replay, and the broker restarted in the middle of one. Afterwards every object was
 * delivered at least once and nothing else was; the duplicates are counted (a page whose broker acks
 * came before a transaction that never committed is sent again) and must be zero on FIFO queues,
 * which drop a resent message id. pg-boss's own faults (exactly once) are in worker-kill.test.ts and
 * service-outages.test.ts (Postgres, its broker, restarted). Run by broker-faults-kafka.test.ts and
 * broker-faults-sqs.test.ts (two files, so that they run side by side). On Kafka, a broker slower
 * than the heartbeat timeout on every publish: activities heartbeat on a timer, so no step is
 * retried while its first attempt still publishes, and nothing is delivered twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateStack, type PrivateStack } from '../support/private-stack.ts';
import type { TestTransport } from '../support/transports.ts';
import {
  expectDeliveredAtLeastOnce,
  retriedActivities,
  seedParent,
  startReplay,
  waitForRecord,
} from './helpers.ts';

const OBJECTS = 1200;

export function brokerFaultSuite(transport: Exclude<TestTransport, 'pgboss'>): void {
  describe(transport, () => {
    let stack: PrivateStack;
    let parentId: string;
    let keys: string[];

    beforeAll(async () => {
      // Kafka: a listener behind a proxy that can hold Produce requests (the slow broker below)
      stack = await startPrivateStack({ transport, kafkaDelayingProxy: transport.startsWith('kafka') });
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

    function report(fault: string, result: { deliveries: number; duplicates: number }, objects = OBJECTS) {
      process.stdout.write(
        `[faults] ${transport}, ${fault}: ${result.deliveries} deliveries of ${objects} objects, ${result.duplicates} duplicates\n`,
      );
      if (transport === 'sqs-fifo') expect(result.duplicates).toBe(0);
    }

    it.runIf(transport.startsWith('kafka'))(
      'a broker slower than the heartbeat timeout on every publish: no retry, no duplicate',
      // first: the only worker polling is the one behind the proxy
      async () => {
        const proxy = stack.kafkaProxy!;
        // a second of silence is a lost worker; each Produce request is held 1.5 s, far below the
        // client's own 30 s request timeout (adapters/transports/kafka.ts), so the client waits
        proxy.produceLatencyMs = 1_500;
        const slowed = proxy.delayedProduces;
        // the worker reaches the broker only through the proxy (its plaintext listener: the proxy
        // reads the Kafka framing, which TLS would hide)
        const worker = stack.startWorkerProcess({
          KAFKA_BROKERS: proxy.brokers,
          KAFKA_SASL_MECHANISM: undefined,
          KAFKA_SASL_USERNAME: undefined,
          KAFKA_SASL_PASSWORD: undefined,
          KAFKA_TLS_CA_FILE: undefined,
        });
        await worker.polling();
        const slow = { app: stack.appWith({ REPLAY_HEARTBEAT_TIMEOUT_SECONDS: '1' }) };
        const few = await seedParent(stack, 300);
        const id = await startReplay(slow, few.parentId);

        const done = await waitForRecord(stack, id, (item) => item.status !== 'running', 180_000);
        expect(done.status, done.error ?? '').toBe('completed');
        // every page's publish was held past the heartbeat timeout
        expect(proxy.delayedProduces - slowed).toBeGreaterThanOrEqual(few.keys.length / 100);
        expect(await retriedActivities(stack, id)).toEqual([]);
        const delivered = await expectDeliveredAtLeastOnce(stack, id, few.keys);
        report('broker slower than the heartbeat timeout', delivered, few.keys.length);
        expect(delivered.duplicates).toBe(0);
        worker.kill('SIGTERM');
        await worker.exited;
      },
      240_000,
    );

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
