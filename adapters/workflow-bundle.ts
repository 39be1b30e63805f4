/**
 * The workflow bundle: the workflows and OpenTelemetry's workflow interceptors, bundled by Temporal's
 * webpack build once, and its build id, a hash of its code. `npm run build` writes it beside the
 * compiled worker (Temporal's production sample: bundleWorkflowCode at build time, workflowBundle at
 * run time); a worker run from the sources (`npm run worker`, `npm run dev`) bundles at start.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from './logger.ts';
import { workflowInterceptorModules } from './tracing.ts';

export type WorkflowBundle = NonNullable<WorkerOptions['workflowBundle']>;

/** The bundle's file name beside the compiled worker (dist/worker.js, dist/workflow-bundle.js). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** The workflows' entry, as sources (.ts) or compiled (.js), whichever this module is. */
export const workflowsPath = fileURLToPath(
  new URL(`../workflows/index${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * A workflow bundle's build id: the first 16 hex digits of the SHA-256 of its code. The inline source
 * map is left out: it names the folder the bundle was built in, which is not the code.
 */
export function workflowBuildId(bundle: WorkflowBundle): string {
  const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
  const withoutSourceMap = code.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '');
  return createHash('sha256').update(withoutSourceMap).digest('hex').slice(0, 16);
}

/** Bundles the workflows with the tracing interceptors (whether tracing is on or not: one bundle). */
export async function bundleWorkflows(logger?: Logger): Promise<{ code: string }> {
  const quiet = () => {};
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules,
    logger: {
      log: quiet,
      trace: quiet,
      debug: quiet,
      info: quiet,
      warn: (message, meta) => logger?.warn(meta ?? {}, message),
      error: (message, meta) => logger?.error(meta ?? {}, message),
    },
  });
  return { code };
}

/** Writes a bundle into a folder (the build's output); returns its path and build id. */
export async function writeWorkflowBundle(folder: string): Promise<{ codePath: string; buildId: string }> {
  const bundle = await bundleWorkflows();
  const codePath = path.join(folder, WORKFLOW_BUNDLE_FILE);
  await writeFile(codePath, bundle.code);
  return { codePath, buildId: workflowBuildId(bundle) };
}

/** The bundle built beside the module that asks (the compiled worker), if there is one. */
export function prebuiltWorkflowBundle(moduleUrl: string): { codePath: string } | undefined {
  const codePath = fileURLToPath(new URL(`./${WORKFLOW_BUNDLE_FILE}`, moduleUrl));
  return existsSync(codePath) ? { codePath } : undefined;
}
