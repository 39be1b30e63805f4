/** The publishing suite (test/support/publishing-suite.ts) on the `pgboss` route transport. */
import { publishingSuite } from './support/publishing-suite.ts';

publishingSuite('pgboss');
