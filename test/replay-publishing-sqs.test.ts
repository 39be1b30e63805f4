/** The publishing suite (test/support/publishing-suite.ts) on the `sqs` route transport. */
import { publishingSuite } from './support/publishing-suite.ts';

publishingSuite('sqs');
