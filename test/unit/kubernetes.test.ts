/**
 * Static checks of the Kubernetes base (deploy/kubernetes/): every manifest read, no cluster needed.
 * The settings it sets exist, its probes hit real routes, it commits no secret, and its pods drain.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { configSchema, fileVariables, parseConfig } from '../../adapters/config.ts';
import { WORKER_SERVER_PATHS } from '../../adapters/metrics.ts';
import { createApiServer } from '../../api/server.ts';

const dir = new URL('../../deploy/kubernetes/', import.meta.url);
const files = readdirSync(dir).filter((name) => name.endsWith('.yaml'));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: any;
}

const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))
    .map((document) => {
      expect(document.errors, file).toEqual([]);
      return { ...(document.toJS() as Manifest), file };
    })
    .filter((manifest) => manifest.kind !== undefined),
);
const ofKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const workloads = [...ofKind('Deployment'), ...ofKind('Job')];
const podOf = (workload: Manifest) => workload.spec.template.spec;
const containers = workloads.flatMap((workload) =>
  (podOf(workload).containers as any[]).map((container) => ({ workload: workload.metadata.name, container })),
);
const configMap = ofKind('ConfigMap').find((map) => map.metadata.name === 'execution-replay-config')!;

/** Settings of the schema, and `<NAME>_FILE` for those that may come from a file. */
const knownSettings = new Set([
  ...Object.keys(configSchema.shape),
  ...fileVariables.map((name) => `${name}_FILE`),
]);

// the api's real routes, from the app as api/main.ts builds it (nothing connects until a request)
const api = createApiServer(
  parseConfig({ DATABASE_URL: 'postgres://u@localhost:1/db', S3_BUCKET: 'outputs', LOG_LEVEL: 'silent' }),
  { auth: { required: false, keys: [], publicHealth: true } },
);
afterAll(() => api.close());

describe('deploy/kubernetes', () => {
  it('is a kustomize base listing every manifest', () => {
    const kustomization = parseAllDocuments(
      readFileSync(new URL('kustomization.yaml', dir), 'utf8'),
    )[0]!.toJS();
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((file) => file !== 'kustomization.yaml').sort(),
    );
  });

  it('has the api (Deployment, Service), both worker roles, the migrations, a PDB each and an HPA for publishing', () => {
    const deployments = ofKind('Deployment')
      .map((deployment) => deployment.metadata.name)
      .sort();
    expect(deployments).toEqual([
      'execution-replay-api',
      'execution-replay-worker-publish',
      'execution-replay-worker-workflows',
    ]);
    const roles = ofKind('Deployment')
      .filter((deployment) => deployment.metadata.name.includes('worker'))
      .map(
        (deployment) =>
          podOf(deployment).containers[0].env.find((env: any) => env.name === 'WORKER_ROLES').value,
      );
    expect(roles.sort()).toEqual(['publish', 'workflows']);
    expect(ofKind('Service').map((service) => service.metadata.name)).toEqual(['execution-replay-api']);
    expect(ofKind('Job').map((job) => podOf(job).containers[0].command)).toEqual([
      ['node', 'dist/scripts/migrate.js'],
    ]);
    const budgets = ofKind('PodDisruptionBudget').map(
      (budget) => budget.spec.selector.matchLabels['app.kubernetes.io/name'],
    );
    expect(budgets.sort()).toEqual(deployments);
    const [hpa] = ofKind('HorizontalPodAutoscaler');
    expect(hpa!.spec.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: 'execution-replay-worker-publish',
    });
  });

  it('sets only settings that exist in the config schema, and the ConfigMap is a valid configuration', () => {
    const unknown = Object.keys(configMap.data!).filter((name) => !knownSettings.has(name));
    for (const { workload, container } of containers) {
      for (const env of container.env ?? [])
        if (!knownSettings.has(env.name)) unknown.push(`${workload}: ${env.name}`);
      for (const source of container.envFrom ?? [])
        expect(source.configMapRef?.name).toBe('execution-replay-config');
    }
    expect(unknown).toEqual([]);
    expect(() =>
      parseConfig({ ...configMap.data, DATABASE_URL: 'postgres://from-the-secret@db/replay' }),
    ).not.toThrow();
  });

  it('probes only real routes: the api app for the api, the worker metrics server for the workers', () => {
    const apiRoutes = new Set(
      api.app.routes.filter((route) => route.method === 'GET').map((route) => route.path),
    );
    let probes = 0;
    for (const { workload, container } of containers) {
      const routes: Set<string> =
        workload === 'execution-replay-api' ? apiRoutes : new Set(WORKER_SERVER_PATHS);
      const ports = new Map((container.ports ?? []).map((port: any) => [port.name, port.containerPort]));
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const probe = container[kind]?.httpGet;
        if (!probe) continue;
        probes += 1;
        expect(routes.has(probe.path), `${workload} ${kind} ${probe.path}`).toBe(true);
        expect(ports.has(probe.port), `${workload} ${kind} port ${probe.port}`).toBe(true);
      }
      if (workload !== 'execution-replay-migrate') {
        expect(container.livenessProbe.httpGet.path, workload).toBe('/healthz');
        expect(container.readinessProbe.httpGet.path, workload).toBe('/readyz');
      }
    }
    expect(probes).toBeGreaterThanOrEqual(6);
    // the workers' probes are served on WORKER_METRICS_PORT
    expect(configMap.data!.WORKER_METRICS_PORT).toBe('9464');
  });

  it('commits no secret: secrets are files of a Secret referenced by name, never values', () => {
    expect(ofKind('Secret')).toEqual([]);
    const secretish = /(PASSWORD|SECRET|TOKEN|API_KEYS|ACCESS_KEY|ACCESS_KEY_ID|DATABASE_URL)$/;
    const values = [
      ...Object.entries(configMap.data!),
      ...containers.flatMap(({ container }) =>
        (container.env ?? []).map((env: any) => [env.name, env.value]),
      ),
    ] as [string, string | undefined][];
    // a secret setting is set only as `<NAME>_FILE`, a file of the mounted Secret
    const committed = values.filter(([name]) => secretish.test(name)).map(([name]) => name);
    expect(committed).toEqual([]);
    for (const [name, value] of values.filter(([name]) => name.endsWith('_FILE')))
      expect(value, name).toMatch(/^\/var\/run\/secrets\/execution-replay\/[\w-]+$/);
    // no URL with credentials in it, whatever its name
    expect(values.filter(([, value]) => /:\/\/[^/\s]*:[^/\s]*@/.test(value ?? ''))).toEqual([]);
    for (const workload of workloads) {
      const volumes = podOf(workload).volumes as any[];
      const secrets = volumes.filter((volume) => volume.secret).map((volume) => volume.secret.secretName);
      expect(secrets, workload.metadata.name).toEqual(['execution-replay-secrets']);
    }
  });

  it('runs non-root on a read-only root filesystem, with requests, and drains within the grace period', () => {
    for (const workload of workloads) {
      const pod = podOf(workload);
      expect(pod.securityContext.runAsNonRoot, workload.metadata.name).toBe(true);
      for (const container of pod.containers) {
        expect(container.securityContext.readOnlyRootFilesystem, workload.metadata.name).toBe(true);
        expect(container.securityContext.allowPrivilegeEscalation, workload.metadata.name).toBe(false);
        expect(container.resources.requests.cpu, workload.metadata.name).toBeDefined();
        expect(container.resources.requests.memory, workload.metadata.name).toBeDefined();
      }
    }
    const drain = Number(configMap.data!.WORKER_SHUTDOWN_GRACE_SECONDS);
    for (const worker of ofKind('Deployment').filter((deployment) =>
      deployment.metadata.name.includes('worker'),
    )) {
      expect(podOf(worker).terminationGracePeriodSeconds, worker.metadata.name).toBeGreaterThan(drain);
    }
  });
});
