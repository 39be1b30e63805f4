/**
 * `npm run build`: the production build, what the image runs (`node dist/api/main.js`,
 * `node dist/worker.js`, `node dist/scripts/migrate.js`).
 *
 * 1. tsc (tsconfig.build.json) compiles the api, the worker, the activities, the workflows and the
 *    operator scripts to dist/, one .js (and source map) per .ts, with the `.ts` import specifiers
 *    rewritten to `.js`. A file-per-file build rather than a bundle: the compiled tree mirrors the
 *    sources, so files found next to a module (the migrations, the workflow bundle) stay where the
 *    code looks for them, and the dependencies stay in node_modules as the Temporal SDK needs them
 *    (its native core, its webpack).
 * 2. The migrations' SQL files are copied beside the compiled migrator.
 * 3. The workflows are bundled once, with the tracing interceptors, into dist/workflow-bundle.js,
 *    which the compiled worker loads instead of bundling at every start; its build id is printed.
 *
 *   npm run build [-- --out-dir DIR] [--no-check]
 *
 * --no-check skips tsc's type check (`npm run check` makes it; the JavaScript is the same, as every
 * file compiles on its own: isolatedModules), for the test that builds.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeWorkflowBundle } from '../adapters/workflow-bundle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    'out-dir': { type: 'string', default: 'dist' },
    'no-check': { type: 'boolean', default: false },
  },
});
const outDir = path.resolve(ROOT, values['out-dir']);
const log = (line: string) => process.stdout.write(`[build] ${line}\n`);

await rm(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
log(`compiling to ${outDir}`);
const check = values['no-check'] ? ['--noCheck'] : [];
execFileSync(
  process.execPath,
  [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', outDir, ...check],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
await mkdir(path.join(outDir, 'adapters'), { recursive: true });
await cp(path.join(ROOT, 'adapters/migrations'), path.join(outDir, 'adapters/migrations'), {
  recursive: true,
});
log('bundling the workflows');
const bundle = await writeWorkflowBundle(outDir);
log(`workflow bundle ${path.relative(ROOT, bundle.codePath)}, build id ${bundle.buildId}`);
