/** The publishing suite (test/support/publishing-suite.ts) on the `kafka` route transport. */
import { publishingSuite } from './support/publishing-suite.ts';

publishingSuite('kafka');
