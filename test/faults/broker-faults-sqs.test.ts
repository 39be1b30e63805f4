/** Worker SIGKILL and broker restart mid-replay on the `sqs` transport, standard and FIFO queues (test/faults/broker-faults.ts). */
import { brokerFaultSuite } from './broker-faults.ts';

brokerFaultSuite('sqs');
brokerFaultSuite('sqs-fifo');
