// kubectl's reads answered in-process (kube/api-reads.ts), against a small API server on localhost that speaks
// aggregated discovery and serves a few objects: what is answered, and everything that goes to kubectl instead.
// That the answers equal kubectl's on a real API server is test/e2e/lab.test.ts's.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RunLog } from '../tasks/lib/base/log.ts';
import { Shell } from '../tasks/lib/exec/shell.ts';
import { ApiReads, simplePath, withApiReads } from '../tasks/lib/kube/api-reads.ts';
import type { Query } from '../tasks/lib/run/requests.ts';
import { fakeRunner, tmpDir } from './helpers.ts';

const resource = (resource: string, kind: string, scope: string, extra: Record<string, unknown> = {}) => ({
  resource,
  responseKind: { kind },
  scope,
  singularResource: kind.toLowerCase(),
  ...extra,
});
const group = (name: string, version: string, resources: unknown[]) => ({
  metadata: { name },
  versions: [{ version, resources }],
});

/** What the server holds; `crdLater` appears in discovery only from its second answer on (a CRD just installed). */
const core = group('', 'v1', [
  resource('namespaces', 'Namespace', 'Cluster', { shortNames: ['ns'] }),
  resource('configmaps', 'ConfigMap', 'Namespaced', { shortNames: ['cm'] }),
  resource('secrets', 'Secret', 'Namespaced'),
]);
const groups = [
  group('apps', 'v1', [resource('deployments', 'Deployment', 'Namespaced', { shortNames: ['deploy'] })]),
  group('networking.istio.io', 'v1', [resource('gateways', 'Gateway', 'Namespaced', { shortNames: ['gw'] })]),
  group('gateway.networking.k8s.io', 'v1', [resource('gateways', 'Gateway', 'Namespaced')]),
];
const crdLater = group('telemetry.istio.io', 'v1', [resource('telemetries', 'Telemetry', 'Namespaced')]);

const objects: Record<string, unknown> = {
  '/api/v1/namespaces/istio-system': {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'istio-system', managedFields: [{ manager: 'kubectl' }], labels: { a: 'b' } },
  },
  '/api/v1/namespaces/istio-system/configmaps/istio': {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'enableTracing: true\n', 'root-cert.pem': 'PEM' },
  },
  '/apis/apps/v1/namespaces/istio-system/deployments': {
    kind: 'DeploymentList',
    apiVersion: 'apps/v1',
    items: [
      { metadata: { name: 'istiod', managedFields: [{}] }, status: { readyReplicas: 1, conditions: [{ type: 'Available' }] } },
    ],
  },
  '/apis/apps/v1/namespaces/istio-system/deployments/istiod': {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'istiod' },
    status: { readyReplicas: 1, conditions: [{ type: 'Available' }] },
  },
  '/apis/apps/v1/namespaces/team/deployments/web': { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web' } },
  '/apis/telemetry.istio.io/v1/namespaces/istio-system/telemetries/mesh-default': {
    kind: 'Telemetry',
    apiVersion: 'telemetry.istio.io/v1',
    metadata: { name: 'mesh-default' },
  },
};

let server: Server;
let url = '';
const seen: IncomingMessage[] = [];
let discoveries = 0;
/** Paths the server refuses (403), as an RBAC rule would. */
const forbidden = new Set<string>();

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const { pathname } = new URL(req.url ?? '', 'http://x');
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (forbidden.has(pathname)) return json(403, { kind: 'Status', code: 403 });
    if (pathname === '/api' || pathname === '/apis') {
      if (!/apidiscovery\.k8s\.io;v=v2/.test(req.headers.accept ?? '')) return json(200, { kind: 'APIGroupList' });
      if (pathname === '/apis') discoveries++;
      const items = pathname === '/api' ? [core] : discoveries > 1 ? [...groups, crdLater] : groups;
      return json(200, { kind: 'APIGroupDiscoveryList', items });
    }
    const o = objects[pathname];
    return o ? json(200, o) : json(404, { kind: 'Status', code: 404 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** A kubeconfig with one context `lab` on the local server; `user` and `context` add to its entries. */
function kubeconfig(o: { user?: string; context?: string; cluster?: string } = {}): string {
  const dir = tmpDir('fwi-kubeconfig-');
  const file = path.join(dir, 'config');
  writeFileSync(path.join(dir, 'token'), 'secret-token\n');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${url}/
${o.cluster ?? ''}
users:
- name: u
  user:
${o.user ?? '    tokenFile: token'}
contexts:
- name: lab
  context:
    cluster: c
    user: u
${o.context ?? ''}
`,
  );
  return file;
}

const readsFor = (file: string, env: Record<string, string> = {}) => new ApiReads({ KUBECONFIG: file, ...env }, 'lab');
const answer = (reads: ApiReads, query: Query) => reads.answer(query, undefined);

describe('reads answered in-process', () => {
  let reads: ApiReads;
  before(() => {
    reads = readsFor(kubeconfig());
  });
  after(() => reads.close());

  it("one object as kubectl prints it: the server's JSON without managedFields, with the token as a bearer", async () => {
    seen.length = 0;
    const got = await answer(reads, { op: 'get', ref: { kind: 'namespace', name: 'istio-system' } });
    assert.deepEqual(JSON.parse(got?.stdout ?? ''), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'istio-system', labels: { a: 'b' } },
    });
    assert.equal(seen.at(-1)?.headers.authorization, 'Bearer secret-token', 'the tokenFile, relative to the kubeconfig');
  });

  it("a missing object is '' with --ignore-not-found, and kubectl's own error when it must exist", async () => {
    assert.deepEqual(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'nosuch' } }), { stdout: '' });
    assert.equal(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'nosuch' }, required: true }), undefined);
  });

  it('a list as kubectl prints it: each item with its kind and apiVersion, in a List; the selector goes to the server', async () => {
    seen.length = 0;
    const got = await answer(reads, { op: 'list', ref: { kind: 'deploy', namespace: 'istio-system' }, selector: 'app=istiod' });
    const list = JSON.parse(got?.stdout ?? '');
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items, [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'istiod' },
        status: { readyReplicas: 1, conditions: [{ type: 'Available' }] },
      },
    ]);
    assert.equal(new URL(seen.at(-1)?.url ?? '', url).searchParams.get('labelSelector'), 'app=istiod');
  });

  it("a namespaced object without a namespace is looked up in the context's (default unless it names one)", async () => {
    assert.deepEqual(await answer(reads, { op: 'get', ref: { kind: 'deployment', name: 'web' } }), { stdout: '' });
    const team = readsFor(kubeconfig({ context: '    namespace: team' }));
    const got = await answer(team, { op: 'get', ref: { kind: 'deployment', name: 'web' } });
    assert.equal(JSON.parse(got?.stdout ?? '').metadata.name, 'web');
    team.close();
  });

  it("a field: a string or number as it is, '' when the field or the object is missing; kubectl for a map", async () => {
    const cm = { kind: 'configmap', name: 'istio', namespace: 'istio-system' };
    const field = (refs: Query & { op: 'field' }) => answer(reads, refs);
    assert.deepEqual(await field({ op: 'field', refs: [cm], jsonpath: '{.data.mesh}' }), { stdout: 'enableTracing: true\n' });
    assert.deepEqual(await field({ op: 'field', refs: [cm], jsonpath: '{.data.root-cert\\.pem}' }), { stdout: 'PEM' });
    const istiod = { kind: 'deployment', name: 'istiod', namespace: 'istio-system' };
    assert.deepEqual(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.readyReplicas}' }), { stdout: '1' });
    assert.deepEqual(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.nothing}' }), { stdout: '' });
    assert.deepEqual(await field({ op: 'field', refs: [{ ...istiod, name: 'gone' }], jsonpath: '{.status}' }), { stdout: '' });
    assert.equal(await field({ op: 'field', refs: [istiod], jsonpath: '{.status}' }), undefined);
    assert.equal(await field({ op: 'field', refs: [istiod, cm], jsonpath: '{.metadata.name}' }), undefined);
    assert.equal(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.conditions[*].type}' }), undefined);
  });

  it('a kind discovery did not list is asked of discovery once more (a CRD just installed)', async () => {
    const fresh = readsFor(kubeconfig());
    const telemetry = { kind: 'telemetry', name: 'mesh-default', namespace: 'istio-system' };
    await answer(fresh, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }); // the first discovery
    const got = await answer(fresh, { op: 'get', ref: telemetry });
    assert.equal(JSON.parse(got?.stdout ?? '').kind, 'Telemetry');
    fresh.close();
  });

  it('kubectl answers what this cannot answer exactly: an ambiguous or unknown kind, a table, a forbidden read, other ops', async () => {
    assert.equal(await answer(reads, { op: 'get', ref: { kind: 'gateway', name: 'g', namespace: 'x' } }), undefined);
    assert.deepEqual(
      await answer(reads, { op: 'get', ref: { kind: 'gateways.networking.istio.io', name: 'g', namespace: 'x' } }),
      {
        stdout: '',
      },
    );
    assert.equal(await answer(reads, { op: 'get', ref: { kind: 'nosuchkind', name: 'x' } }), undefined);
    assert.equal(await answer(reads, { op: 'list', ref: { kind: 'deployments,pods', namespace: 'x' } }), undefined);
    forbidden.add('/api/v1/namespaces/secret-place');
    assert.equal(await answer(reads, { op: 'get', ref: { kind: 'namespace', name: 'secret-place' } }), undefined);
    for (const query of [
      { op: 'names', ref: { kind: 'secret', name: 'x' } },
      { op: 'version', tool: 'kubectl', of: 'server' },
      { op: 'api-versions' },
    ] as Query[])
      assert.equal(await answer(reads, query), undefined, query.op);
    assert.equal(await answer(reads, undefined as unknown as Query), undefined);
  });
});

describe('a context that cannot be used in-process is left to kubectl', () => {
  const cases: [string, () => string, Record<string, string>?][] = [
    ['the user authenticates with exec', () => kubeconfig({ user: '    exec: {command: gke-gcloud-auth-plugin}' })],
    ['the cluster is reached through a proxy', () => kubeconfig({ cluster: '    proxy-url: http://proxy:3128' })],
    ['HTTPS_PROXY is set', () => kubeconfig(), { HTTPS_PROXY: 'http://proxy:3128' }],
    ['KUBECONFIG names several files', () => `${kubeconfig()}:${kubeconfig()}`],
  ];
  for (const [why, file, env] of cases)
    it(why, async () => {
      const reads = readsFor(file(), env);
      assert.match(reads.declined ?? '', new RegExp(why.replace(/[()]/g, '\\$&')));
      assert.equal(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), undefined);
    });

  it('a context not written yet (minikube before it starts) is looked up again on the next read', async () => {
    const file = kubeconfig();
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('- name: lab', '- name: other'));
    const reads = readsFor(file);
    assert.match(reads.declined ?? '', /no context lab/);
    writeFileSync(file, text);
    assert.equal(reads.declined, undefined);
    assert.ok(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), 'answered once the context exists');
    reads.close();
  });
});

describe('the runner with reads in-process', () => {
  it("answers a kubectl read itself, logged as kubectl's command with 'in-process'; everything else runs", async () => {
    const programs = fakeRunner(() => ({ stdout: 'from kubectl\n' }));
    const reads = readsFor(kubeconfig());
    const file = path.join(tmpDir('fwi-log-'), 'run.log');
    const sh = new Shell({
      config: { context: 'lab', istioctl: 'istioctl', kubeconfig: undefined, cluster: { kind: 'existing' } } as never,
      log: new RunLog(file),
      runner: withApiReads(reads, programs.runner),
    });
    const got = await sh.kubectl(['get', 'namespace', 'istio-system', '-o', 'json', '--ignore-not-found'], {
      read: true,
      query: { op: 'get', ref: { kind: 'namespace', name: 'istio-system' } },
    });
    assert.equal(JSON.parse(got.stdout).metadata.name, 'istio-system');
    const other = await sh.kubectl(['get', 'namespace', '-L', 'x'], { read: true });
    assert.equal(other.stdout, 'from kubectl\n');
    await sh.istioctl(['version'], { query: { op: 'version', tool: 'istioctl', of: 'client' } });
    assert.deepEqual(
      programs.calls.map((c) => c.argv.join(' ')),
      ['kubectl --context lab get namespace -L x', 'istioctl --context lab version'],
    );
    const log = readFileSync(file, 'utf8');
    assert.match(
      log,
      /\$ kubectl --context lab get namespace istio-system -o json --ignore-not-found\n(.*\n)*?.*> exit 0 \(\d+ ms, in-process\)/,
    );
    reads.close();
  });

  it('a server that cannot be reached is asked through kubectl, whose error is the one shown', async () => {
    const dead = kubeconfig().replace(/$/, '');
    writeFileSync(dead, readFileSync(dead, 'utf8').replace(url, 'http://127.0.0.1:9'));
    const programs = fakeRunner(() => ({ code: 1, stderr: 'The connection to the server 127.0.0.1:9 was refused\n' }));
    const run = withApiReads(readsFor(dead), programs.runner);
    const started = await run(
      { argv: ['kubectl', 'get', 'ns', 'x'], query: { op: 'get', ref: { kind: 'ns', name: 'x' } } },
      { env: {}, output: () => {} },
    );
    assert.equal((await started.exit).exitCode, 1);
    assert.equal(programs.calls.length, 1);
  });
});

describe('simplePath: the jsonpaths answered in-process', () => {
  it('dotted steps, escaped dots and indexes', () => {
    assert.deepEqual(simplePath('{.data.root-cert\\.pem}'), ['data', 'root-cert.pem']);
    assert.deepEqual(simplePath('{.webhooks[0].clientConfig.caBundle}'), ['webhooks', 0, 'clientConfig', 'caBundle']);
    assert.deepEqual(simplePath('{.status.readyReplicas}'), ['status', 'readyReplicas']);
  });
  it('nothing more: wildcards, filters, ranges, several paths, recursion', () => {
    for (const p of ['{.items[*].x}', '{.a[?(@.b=="c")]}', '{range .items[*]}{.x}{end}', '{.a}{.b}', '{..name}', '.a', '{.a[x]}'])
      assert.equal(simplePath(p), undefined, p);
  });
});
