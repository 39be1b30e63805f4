/** Worker SIGKILL and broker restart mid-replay on the `kafka` transport (test/faults/broker-faults.ts). */
import { brokerFaultSuite } from './broker-faults.ts';

brokerFaultSuite('kafka');
