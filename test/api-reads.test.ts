// kubectl's reads answered in-process (kube/api-reads.ts), against a small API server on localhost that speaks
// aggregated discovery and serves a few objects: what is answered, and everything that goes to kubectl instead.
// That the answers equal kubectl's on a real API server is test/e2e/lab.test.ts's.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { RunLog } from '../tasks/lib/base/log.ts';
import { Shell } from '../tasks/lib/exec/shell.ts';
import { ensureCa } from '../tasks/lib/istio/ca.ts';
import { ApiReads, simplePath, withApiReads } from '../tasks/lib/kube/api-reads.ts';
import { accessOf } from '../tasks/lib/kube/kubeconfig.ts';
import type { Query } from '../tasks/lib/run/requests.ts';
import { fakeRunner, tmpDir } from './helpers.ts';

const resource = (resource: string, kind: string, scope: string, extra: Record<string, unknown> = {}) => ({
  resource,
  responseKind: { kind },
  scope,
  singularResource: kind.toLowerCase(),
  ...extra,
});
// The core group has no name: the server leaves it out.
const group = (name: string, version: string, resources: unknown[]) => ({
  metadata: name ? { name } : {},
  versions: [{ version, resources }],
});

/** What the server holds; `crdLater` appears in discovery only from its second answer on (a CRD just installed). */
const core = group('', 'v1', [
  resource('namespaces', 'Namespace', 'Cluster', { shortNames: ['ns'] }),
  resource('configmaps', 'ConfigMap', 'Namespaced', { shortNames: ['cm'] }),
  resource('secrets', 'Secret', 'Namespaced'),
  // Entries a server may list that name no kind, no resource or no singular: never answered, never a crash.
  { resource: 'bindings', scope: 'Namespaced' },
  { responseKind: { kind: 'Nameless' }, scope: 'Namespaced', singularResource: 'nameless' },
  { resource: 'plainthings', responseKind: { kind: 'PlainThing' }, scope: 'Cluster' },
]);
const groups = [
  group('apps', 'v1', [resource('deployments', 'Deployment', 'Namespaced', { shortNames: ['deploy'] })]),
  group('networking.istio.io', 'v1', [resource('gateways', 'Gateway', 'Namespaced', { shortNames: ['gw'] })]),
  group('gateway.networking.k8s.io', 'v1', [resource('gateways', 'Gateway', 'Namespaced')]),
];
const crdLater = group('telemetry.istio.io', 'v1', [resource('telemetries', 'Telemetry', 'Namespaced')]);

const objects: Record<string, unknown> = {
  '/api/v1/plainthings/p': { kind: 'PlainThing', apiVersion: 'v1', metadata: { name: 'p' } },
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
    status: { readyReplicas: 1, conditions: [{ type: 'Available' }], paused: null },
  },
  '/apis/apps/v1/namespaces/team/deployments/web': { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web' } },
  '/apis/telemetry.istio.io/v1/namespaces/istio-system/telemetries/mesh-default': {
    kind: 'Telemetry',
    apiVersion: 'telemetry.istio.io/v1',
    metadata: { name: 'mesh-default' },
  },
};

let server: Server;
let tlsServer: HttpsServer;
let url = '';
let tlsUrl = '';
/** Connections the plain server accepted, and the client certificates the TLS one was shown. */
const connections: Socket[] = [];
const peers: string[] = [];
const seen: IncomingMessage[] = [];
let discoveries = 0;
/** Paths the server refuses (403), as an RBAC rule would. */
const forbidden = new Set<string>();
/** A server that answers discovery only in the older form (no aggregated discovery). */
let oldDiscovery = false;
/** A server whose aggregated discovery lists nothing, not even an empty list. */
let emptyDiscovery = false;
/** A server that drops the connection of the next discovery request. */
let failDiscoveryOnce = false;

before(async () => {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    const { pathname } = new URL(req.url ?? '', 'http://x');
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (forbidden.has(pathname)) return json(403, { kind: 'Status', code: 403 });
    if (failDiscoveryOnce && (pathname === '/api' || pathname === '/apis')) {
      failDiscoveryOnce = false;
      return res.destroy();
    }
    if (pathname === '/api' || pathname === '/apis') {
      if (oldDiscovery || !/apidiscovery\.k8s\.io;v=v2/.test(req.headers.accept ?? ''))
        return json(200, { kind: 'APIGroupList' });
      if (emptyDiscovery) return json(200, { kind: 'APIGroupDiscoveryList' });
      if (pathname === '/apis') discoveries++;
      const items = pathname === '/api' ? [core] : discoveries > 1 ? [...groups, crdLater] : groups;
      return json(200, { kind: 'APIGroupDiscoveryList', items });
    }
    if (pathname === '/api/v1/namespaces/silent') return; // never answers
    if (pathname === '/api/v1/namespaces/cut') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"kind":', () => res.destroy()); // the connection drops half-way through the body
      return;
    }
    const o = objects[pathname];
    return o ? json(200, o) : json(404, { kind: 'Status', code: 404 });
  };
  server = createServer(handle);
  server.keepAliveTimeout = 60_000; // a connection is closed by the client sooner, or not at all
  server.on('connection', (c: Socket) => connections.push(c));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Over TLS: the CA's intermediate as the server's certificate (its name: istiod.istio-system.svc), trusted
  // through the root; the client's certificate is asked for and noted.
  const certs = tmpDir('fwi-api-ca-');
  await ensureCa(certs, 'api', 2048); // 2048 bits: made again for every mutant of the reads group
  tls = {
    root: path.join(certs, 'root-cert.pem'),
    cert: readFileSync(path.join(certs, 'api', 'ca-cert.pem')),
    key: readFileSync(path.join(certs, 'api', 'ca-key.pem')),
  };
  tlsServer = createHttpsServer({ cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    if (peer?.fingerprint256) peers.push(peer.fingerprint256);
    handle(req, res);
  });
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
});
after(() => {
  for (const s of [server, tlsServer]) {
    s.closeAllConnections();
    s.close();
  }
});
let tls: { root: string; cert: Buffer; key: Buffer };

/** A kubeconfig with one context `lab` on the local server; `user` and `context` add to its entries. */
function kubeconfig(o: { user?: string; context?: string; cluster?: string; server?: string } = {}): string {
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
    server: ${o.server ?? url}/
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
    assert.deepEqual({ ...list, items: [] }, { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [] });
    assert.deepEqual(list.items, [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'istiod' },
        status: { readyReplicas: 1, conditions: [{ type: 'Available' }] },
      },
    ]);
    assert.equal(new URL(seen.at(-1)?.url ?? '', url).searchParams.get('labelSelector'), 'app=istiod');
    await answer(reads, { op: 'list', ref: { kind: 'deploy', namespace: 'istio-system' } });
    assert.equal(seen.at(-1)?.url, '/apis/apps/v1/namespaces/istio-system/deployments', 'no selector, no query');
  });

  it('a get without a name, or a list with one, is not what kubectl was asked: kubectl answers', async () => {
    assert.equal(await answer(reads, { op: 'get', ref: { kind: 'deploy', namespace: 'istio-system' } }), undefined);
    assert.equal(
      await answer(reads, { op: 'list', ref: { kind: 'deploy', name: 'istiod', namespace: 'istio-system' } }),
      undefined,
    );
    assert.equal(
      await answer(reads, { op: 'field', refs: [{ kind: 'deploy', namespace: 'istio-system' }], jsonpath: '{.kind}' }),
      undefined,
    );
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
    assert.deepEqual(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.nothing.deeper}' }), { stdout: '' });
    // A string's length, an index past a list's end, an inherited name: kubectl's to say, or missing.
    assert.equal(await field({ op: 'field', refs: [istiod], jsonpath: '{.metadata.name.length}' }), undefined);
    assert.equal(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.conditions[1].type}' }), undefined);
    assert.deepEqual(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.conditions[0].type}' }), {
      stdout: 'Available',
    });
    assert.equal(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.conditions.type}' }), undefined);
    assert.deepEqual(await field({ op: 'field', refs: [istiod], jsonpath: '{.metadata.constructor}' }), { stdout: '' });
    for (const jsonpath of ['{.status.paused.deeper}', '{.metadata[0]}', '{.metadata.name[0]}'])
      assert.equal(await field({ op: 'field', refs: [istiod], jsonpath }), undefined, jsonpath);
    assert.equal(await field({ op: 'field', refs: [istiod], jsonpath: '{.status.paused}' }), undefined, 'null: kubectl says');
    forbidden.add('/apis/apps/v1/namespaces/istio-system/deployments/istiod');
    try {
      assert.equal(
        await field({ op: 'field', refs: [istiod], jsonpath: '{.metadata.name}' }),
        undefined,
        'refused: kubectl says',
      );
    } finally {
      forbidden.delete('/apis/apps/v1/namespaces/istio-system/deployments/istiod');
    }
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
    assert.equal(
      await answer(reads, { op: 'field', refs: [{ kind: 'nosuchkind', name: 'x' }], jsonpath: '{.metadata.name}' }),
      undefined,
    );
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

describe('discovery', () => {
  it('is asked once for the kinds it lists, and again once for one it does not', async () => {
    const reads = readsFor(kubeconfig());
    const before = discoveries;
    await answer(reads, { op: 'get', ref: { kind: 'nosuchkind', name: 'x' } }); // the first discovery: no second one
    assert.equal(discoveries - before, 1);
    for (const kind of ['ns', 'Namespace', 'NAMESPACES', 'namespace', 'namespaces'])
      assert.ok(await answer(reads, { op: 'get', ref: { kind, name: 'istio-system' } }), kind);
    assert.equal(discoveries - before, 1, 'a known kind, in any case, asks discovery no more');
    await answer(reads, { op: 'get', ref: { kind: 'nosuchkind', name: 'x' } });
    assert.equal(discoveries - before, 2, 'an unknown kind asks again');
    reads.close();
  });

  it('entries without a kind, a resource or a singular name are never answered, and break nothing', async () => {
    const reads = readsFor(kubeconfig());
    for (const kind of ['bindings', 'nameless'])
      assert.equal(await answer(reads, { op: 'get', ref: { kind, name: 'x', namespace: 'y' } }), undefined, kind);
    const plain = await answer(reads, { op: 'get', ref: { kind: 'plainthing', name: 'p' } });
    assert.equal(JSON.parse(plain?.stdout ?? '').kind, 'PlainThing');
    reads.close();
  });

  it('a server without aggregated discovery, or one that refuses it, leaves every read to kubectl', async () => {
    oldDiscovery = true;
    try {
      const reads = readsFor(kubeconfig());
      assert.equal(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), undefined);
      reads.close();
    } finally {
      oldDiscovery = false;
    }
    for (const refused of ['/api', '/apis']) {
      forbidden.add(refused);
      try {
        const reads = readsFor(kubeconfig());
        assert.equal(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), undefined, refused);
        reads.close();
      } finally {
        forbidden.delete(refused);
      }
    }
  });

  it('a discovery document without its lists is an error, and kubectl answers', async () => {
    emptyDiscovery = true;
    try {
      const reads = readsFor(kubeconfig());
      await assert.rejects(answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), TypeError);
      const programs = fakeRunner(() => ({ stdout: 'from kubectl\n' }));
      const started = await withApiReads(reads, programs.runner)(
        { argv: ['kubectl', 'get', 'ns', 'istio-system'], query: { op: 'get', ref: { kind: 'ns', name: 'istio-system' } } },
        { env: {}, output: () => {} },
      );
      assert.equal((await started.exit).stdout, 'from kubectl\n');
      reads.close();
    } finally {
      emptyDiscovery = false;
    }
  });

  it('a discovery that failed is asked again by the next read', async () => {
    const reads = readsFor(kubeconfig());
    failDiscoveryOnce = true;
    await assert.rejects(answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }));
    assert.ok(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), 'answered the second time');
    reads.close();
  });

  it('a request that gets no answer within its time limit is given up (kubectl is asked then)', { timeout: 30_000 }, async () => {
    const reads = new ApiReads({ KUBECONFIG: kubeconfig() }, 'lab', 300);
    await assert.rejects(answer(reads, { op: 'get', ref: { kind: 'ns', name: 'silent' } }), /abort|timeout/i);
    reads.close();
  });

  it('stopped (Ctrl-C) while the server is asked: no kubectl is started after it', async () => {
    const reads = readsFor(kubeconfig());
    const programs = fakeRunner(() => ({ stdout: 'from kubectl\n' }));
    const stop = new AbortController();
    const asking = withApiReads(reads, programs.runner)(
      { argv: ['kubectl', 'get', 'ns', 'silent'], query: { op: 'get', ref: { kind: 'ns', name: 'silent' } } },
      { env: {}, signal: stop.signal, output: () => {} },
    );
    setImmediate(() => stop.abort());
    const exit = await (await asking).exit;
    assert.equal(exit.signal, 'SIGINT');
    assert.equal(programs.calls.length, 0, 'kubectl was not started');
    reads.close();
  });

  it('closing reads that never asked anything is no error', () => {
    readsFor(kubeconfig()).close();
  });

  it('the kubeconfig is read until it works, then kept', async () => {
    const file = kubeconfig();
    const reads = readsFor(file);
    assert.ok(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), 'answered');
    writeFileSync(file, 'not: a kubeconfig');
    assert.ok(await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), 'still answered');
    reads.close();
  });
});

describe('a context that cannot be used in-process is left to kubectl', () => {
  const cases: [string, () => string, Record<string, string>?][] = [
    ['the user authenticates with exec', () => kubeconfig({ user: '    exec: {command: gke-gcloud-auth-plugin}' })],
    ['the cluster is reached through a proxy', () => kubeconfig({ cluster: '    proxy-url: http://proxy:3128' })],
    ...['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'].map(
      (v): [string, () => string, Record<string, string>] => [`${v} is set`, () => kubeconfig(), { [v]: 'http://proxy:3128' }],
    ),
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
    // Only kubectl's answers are given in-process, whatever another tool's command asks.
    await sh.istioctl(['x', 'get-ns'], { query: { op: 'get', ref: { kind: 'namespace', name: 'istio-system' } } });
    assert.deepEqual(
      programs.calls.map((c) => c.argv.join(' ')),
      ['kubectl --context lab get namespace -L x', 'istioctl --context lab version', 'istioctl --context lab x get-ns'],
    );
    const log = readFileSync(file, 'utf8');
    assert.match(log, /^\| \{$/m, "the answer is logged as output, as a program's would be");
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
    assert.deepEqual(simplePath('{.items[10][2].x}'), ['items', 10, 2, 'x']);
  });
  it('nothing more: wildcards, filters, ranges, several paths, recursion', () => {
    for (const p of [
      '{.items[*].x}',
      '{.a[?(@.b=="c")]}',
      '{range .items[*]}{.x}{end}',
      '{.a}{.b}',
      '{..name}',
      '.a',
      '{.a[x]}',
      '{.a[x]b}',
      '{.a[0]x}',
      'x{.a}',
      '{.a}x',
    ])
      assert.equal(simplePath(p), undefined, p);
  });
});

describe('over TLS and one connection', () => {
  it("verifies the server against the kubeconfig's CA under its tls-server-name, and shows the client's certificate", async () => {
    const b64 = (b: Buffer) => b.toString('base64');
    const file = kubeconfig({
      server: tlsUrl,
      cluster: `    certificate-authority: ${tls.root}\n    tls-server-name: istiod.istio-system.svc`,
      user: `    client-certificate-data: ${b64(tls.cert)}\n    client-key-data: ${b64(tls.key)}`,
    });
    peers.length = 0;
    seen.length = 0;
    const reads = readsFor(file);
    const got = await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } });
    assert.equal(JSON.parse(got?.stdout ?? '').metadata.name, 'istio-system');
    assert.deepEqual([...new Set(peers)], [new X509Certificate(tls.cert).fingerprint256], 'the client certificate was shown');
    assert.equal(seen.at(-1)?.headers.authorization, undefined, 'no token: no Authorization header');
    assert.equal(seen.at(-1)?.headers.accept, 'application/json');
    reads.close();
    // The server's name is not 127.0.0.1: without tls-server-name the certificate is refused.
    const unnamed = readsFor(kubeconfig({ server: tlsUrl, cluster: `    certificate-authority: ${tls.root}` }));
    await assert.rejects(answer(unnamed, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), /altnames|IP: 127\.0\.0\.1/i);
    unnamed.close();
    // Nor is it trusted without the CA, unless the kubeconfig says to skip the check.
    const untrusted = readsFor(kubeconfig({ server: tlsUrl }));
    await assert.rejects(answer(untrusted, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), /certificate/i);
    untrusted.close();
    const insecure = readsFor(kubeconfig({ server: tlsUrl, cluster: '    insecure-skip-tls-verify: true' }));
    assert.ok(await answer(insecure, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } }), 'answered, unverified as asked');
    insecure.close();
  });

  it('asks every read over the connections kept alive since discovery, and closes them at the end', {
    timeout: 30_000,
  }, async () => {
    const reads = readsFor(kubeconfig());
    const before = connections.length;
    await answer(reads, { op: 'get', ref: { kind: 'ns', name: 'istio-system' } });
    const opened = connections.length - before; // discovery's two questions, side by side
    for (const name of ['nosuch', 'istio-system', 'x']) await answer(reads, { op: 'get', ref: { kind: 'ns', name } });
    assert.equal(connections.length - before, opened, 'no new connection for the later reads');
    const mine = connections.slice(before);
    const closed = Promise.all(mine.map((c) => new Promise((resolve) => c.on('close', resolve))));
    reads.close();
    await closed;
  });

  it('a body cut off on the way is an error (kubectl is asked then), not a wait without end', { timeout: 30_000 }, async () => {
    const reads = readsFor(kubeconfig());
    await assert.rejects(answer(reads, { op: 'get', ref: { kind: 'ns', name: 'cut' } }), /aborted|ECONNRESET|socket hang up/);
    reads.close();
  });

  it('reads a body of many chunks with characters split between them', async () => {
    const text = 'é'.repeat(200_000);
    objects['/api/v1/namespaces/istio-system/configmaps/big'] = { kind: 'ConfigMap', metadata: { name: 'big' }, data: { text } };
    const reads = readsFor(kubeconfig());
    const got = await answer(reads, {
      op: 'field',
      refs: [{ kind: 'cm', name: 'big', namespace: 'istio-system' }],
      jsonpath: '{.data.text}',
    });
    assert.equal(got?.stdout, text);
    reads.close();
  });
});

describe('the access a kubeconfig gives a context', () => {
  const write = (text: string, files: Record<string, string> = {}) => {
    const dir = tmpDir('fwi-kc-');
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    writeFileSync(path.join(dir, 'config'), text);
    return path.join(dir, 'config');
  };
  const config = (cluster: string, user: string, context = '') => `clusters:
- name: c
  cluster:
${cluster}
users:
- name: u
  user:
${user}
contexts:
- name: lab
  context: {cluster: c, user: u${context}}
`;

  it('inline data: the CA, the client certificate and key, decoded; the server without its trailing slash', () => {
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const file = write(
      config(
        `    server: https://h:6443//\n    certificate-authority-data: ${b64('CA')}\n    tls-server-name: api.local\n    insecure-skip-tls-verify: false`,
        `    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}\n    token: t0k`,
        ', namespace: team',
      ),
    );
    const a = accessOf({ KUBECONFIG: file }, 'lab');
    assert.ok(a.ok, JSON.stringify(a));
    assert.deepEqual(
      { ...a.access, ca: a.access.ca?.toString(), cert: a.access.cert?.toString(), key: a.access.key?.toString() },
      {
        server: 'https://h:6443',
        namespace: 'team',
        ca: 'CA',
        cert: 'CERT',
        key: 'KEY',
        token: 't0k',
        insecure: false,
        serverName: 'api.local',
      },
    );
  });

  it("files named relative to the kubeconfig's own folder; no namespace is 'default'; insecure when it says so", () => {
    const file = write(
      config(
        '    server: http://h\n    certificate-authority: ca.pem',
        '    client-certificate: c.pem\n    client-key: k.pem',
        ', namespace: ""',
      ),
      { 'ca.pem': 'CA', 'c.pem': 'CERT', 'k.pem': 'KEY' },
    );
    const a = accessOf({ KUBECONFIG: file }, 'lab');
    assert.ok(a.ok, JSON.stringify(a));
    assert.deepEqual(
      [a.access.ca?.toString(), a.access.cert?.toString(), a.access.key?.toString(), a.access.namespace, a.access.insecure],
      ['CA', 'CERT', 'KEY', 'default', false],
    );
    assert.equal(a.access.token, undefined);
    assert.equal(a.access.serverName, undefined);
    const insecure = accessOf(
      { KUBECONFIG: write(config('    server: http://h\n    insecure-skip-tls-verify: true', '    token: x')) },
      'lab',
    );
    assert.ok(insecure.ok && insecure.access.insecure, JSON.stringify(insecure));
  });

  it('a tokenFile wins over an inline token, as in client-go', () => {
    const a = accessOf(
      { KUBECONFIG: write(config('    server: http://h', '    token: inline\n    tokenFile: t'), { t: 'from-file\n' }) },
      'lab',
    );
    assert.ok(a.ok && a.access.token === 'from-file', JSON.stringify(a));
  });

  it('without KUBECONFIG: ~/.kube/config of the HOME given', () => {
    const home = tmpDir('fwi-home-');
    const kube = path.join(home, '.kube');
    mkdirSync(kube);
    writeFileSync(path.join(kube, 'config'), config('    server: http://h', '    token: x'));
    assert.ok(accessOf({ HOME: home }, 'lab').ok, 'the context in ~/.kube/config is usable');
  });

  it('declines, saying why: no such file, context, cluster or server; a file it names missing; each plugin', () => {
    const why = (env: NodeJS.ProcessEnv, context = 'lab') => {
      const a = accessOf(env, context);
      return a.ok ? 'usable' : a.why;
    };
    assert.match(why({ KUBECONFIG: '/nonexistent/config' }), /^cannot read \/nonexistent\/config: ENOENT/);
    const good = write(config('    server: http://h', '    token: x'));
    assert.match(why({ KUBECONFIG: good }, 'other'), new RegExp(`^no context other in ${good}$`));
    assert.equal(
      why({ KUBECONFIG: write(config('    insecure-skip-tls-verify: true', '    token: x')) }),
      'context lab has no cluster server',
    );
    assert.equal(
      why({ KUBECONFIG: write(config('    server: 6443', '    token: x').replace('- name: c\n', '- name: d\n')) }),
      'context lab has no cluster server',
    );
    assert.match(
      why({ KUBECONFIG: write(config('    server: http://h', '    tokenFile: missing')) }),
      /^cannot read a file the kubeconfig names: ENOENT/,
    );
    assert.equal(
      why({
        KUBECONFIG: write(
          config(
            '    server: https://h\n    insecure-skip-tls-verify: true\n    certificate-authority-data: Q0E=',
            '    token: x',
          ),
        ),
      }),
      'the cluster both skips TLS verification and names a CA',
    );
    assert.equal(
      why({
        KUBECONFIG: write(
          config('    server: https://h\n    insecure-skip-tls-verify: true\n    certificate-authority: ca.pem', '    token: x'),
        ),
      }),
      'the cluster both skips TLS verification and names a CA',
    );
    for (const plugin of ['exec', 'auth-provider', 'username', 'as', 'as-uid', 'as-groups', 'as-user-extra'])
      assert.equal(
        why({ KUBECONFIG: write(config('    server: http://h', `    ${plugin}: x`)) }),
        `the user authenticates with ${plugin}`,
      );
  });
});
