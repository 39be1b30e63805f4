/** Worker SIGKILL and broker restart mid-replay on the `kafka` transport over SASL_SSL (test/faults/broker-faults.ts). */
import { brokerFaultSuite } from './broker-faults.ts';

brokerFaultSuite('kafka-sasl');
