// The ambient track's building blocks one at a time (the client's curl, the CNI agent's mark, the page through the
// gateway, the gateway made ClusterIP, the Gateway API CRDs), each step run alone against a world wrong in exactly
// one way, and what it leaves on screen and in the log read back.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { checkFromClient, checkPageThroughGateway, expect, productpageUrl } from '../tasks/lib/apps/ambient-checks.ts';
import { checkRedirected, exposeThroughGatewayApi } from '../tasks/lib/apps/bookinfo-ambient.ts';
import { curlFrom, deployMeshClient, describeReach, meshClient, type Reach } from '../tasks/lib/apps/in-mesh-client.ts';
import { run } from '../tasks/lib/cli/runner.ts';
import { inNamespace } from '../tasks/lib/kube/kube.ts';
import type { Pod } from '../tasks/lib/kube/pods.ts';
import { step } from '../tasks/lib/run/step.ts';
import type { Task, TaskCommand } from '../tasks/lib/run/types.ts';
import { installGatewayApi } from '../tasks/lib/steps/gateway-api.ts';
import { asks, fakeRunner, nodesJson, type Reply, type Responder, tmpDir, virtualClock } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const page = readFileSync(path.join(import.meta.dirname, 'fixtures', 'bookinfo', 'reviews-v1.html'), 'utf8');
const crdsFile = path.join(tmpDir('fwi-judges-'), 'standard-install.yaml');
const crds = gunzipSync(readFileSync(path.join(import.meta.dirname, 'fixtures', 'gateway-api', 'standard-install.yaml.gz')));
writeFileSync(crdsFile, crds);
/** The same file with one value changed: a bundle version one digit off. */
const tamperedFile = path.join(path.dirname(crdsFile), 'tampered.yaml');
writeFileSync(tamperedFile, crds.toString().replace('bundle-version: v1.6.0', 'bundle-version: v1.6.1'));

/** What the local server answers: the gateway's page, or the release file of the Gateway API. */
let served = page;
const server = createServer((req, res) => {
  if (served === 'reset') return req.socket.destroy();
  if (req.url === '/standard-install.yaml') return res.end(crds);
  if (req.url?.endsWith('.yaml')) res.statusCode = 404;
  res.end(served);
});
let port = 0;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

const containerd = (query: Parameters<Responder>[2]): Reply | undefined =>
  asks(query, 'list', { kind: 'nodes' }) ? { stdout: nodesJson('containerd://2.1.4') } : undefined;

/**
 * Runs `tasks` as one command on the existing cluster `lab`, the cluster answering as `respond` says; `lines` are
 * the log's lines (a dry run's are what it printed) that start with a prefix.
 */
async function runTasks(tasks: Task[], respond: Responder, env: Record<string, string> = {}, argv: string[] = []) {
  const fake = fakeRunner((a, input, query) => respond(a, input, query) ?? containerd(query));
  const command: TaskCommand = { kind: 'tasks', name: 'judge', summary: 'one step', tasks: () => tasks };
  let err = '';
  let out = '';
  const code = await run([command], ['judge', ...argv], {
    env: {
      HOME: tmpDir('fwi-home-'),
      CACHE_DIR: tmpDir('fwi-cache-'),
      CLUSTER: 'existing',
      KUBE_CONTEXT: 'lab',
      PATH: '',
      ISTIO_HOME: release,
      ...env,
    },
    envFile: '/nonexistent/.env',
    runner: fake.runner,
    renderer: 'silent',
    clock: virtualClock(),
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  process.exitCode = 0;
  const logFile = /\(log: (\S+\.log)\)/.exec(err)?.[1];
  const log = logFile ? readFileSync(logFile, 'utf8') : out;
  return { code, err, log, calls: fake.calls, lines: (prefix: string) => log.split('\n').filter((l) => l.startsWith(prefix)) };
}

describe('curlFrom: what the client inside the mesh got', () => {
  async function reach(reply: Reply, client = meshClient, method = 'GET') {
    const got: Reach[] = [];
    const probe = step('Reach productpage', {
      run: async (ctx) => void got.push(await curlFrom(ctx, client, productpageUrl, method)),
    });
    const r = await runTasks([probe], (argv) => (argv.includes('exec') ? reply : undefined));
    return { ...r, got: got[0], exec: r.calls.find((c) => c.argv.includes('exec'))?.argv };
  }

  it('asks with kubectl exec what a user would type: curl with the method, a bound, the status written after the body', async () => {
    const r = await reach({ stdout: 'HTTP_STATUS=403' }, meshClient, 'DELETE');
    assert.deepEqual(r.exec, [
      'kubectl',
      '--context',
      'lab',
      '-n',
      'bookinfo',
      'exec',
      'deployment/curl',
      '-c',
      'curl',
      '--',
      'curl',
      '-s',
      '-X',
      'DELETE',
      '--max-time',
      '5',
      '-w',
      'HTTP_STATUS=%{http_code}',
      'http://productpage:9080/productpage',
    ]);
  });

  it('a client of another name is exec’d into its own container', async () => {
    const r = await reach({ stdout: 'HTTP_STATUS=200' }, inNamespace('bookinfo', 'deployment', 'sleep'));
    assert.equal(r.exec?.[r.exec.indexOf('-c') + 1], 'sleep');
  });

  it('reads the status after the body, both without the spaces and newlines around them', async () => {
    const r = await reach({ stdout: '  RBAC: access denied\n HTTP_STATUS=403 \n' });
    assert.deepEqual(r.got, { status: '403', curlExit: 0, body: 'RBAC: access denied' });
  });

  it('a response without a body is its status alone', async () => {
    const r = await reach({ stdout: 'HTTP_STATUS=204' });
    assert.deepEqual(r.got, { status: '204', curlExit: 0, body: '' });
  });

  it('no status written (curl gave up) is status 000, with curl’s exit code and what it printed', async () => {
    const r = await reach({ code: 1, stdout: 'partial', stderr: 'command terminated with exit code 56\n' });
    assert.deepEqual(r.got, { status: '000', curlExit: 56, body: 'partial' });
  });

  it('keeps only the start of a long body', async () => {
    const r = await reach({ stdout: `${'x'.repeat(200)}HTTP_STATUS=200` });
    assert.equal(r.got.body, 'x'.repeat(80));
  });

  it('kubectl’s own failure is the step’s error, with its last line, or its exit code when it said nothing', async () => {
    const said = await reach({ code: 1, stderr: 'Warning: something\nerror: unable to upgrade connection\n' });
    assert.equal(said.code, 1);
    assert.match(said.err, /: kubectl exec into curl: error: unable to upgrade connection \(log:/);
    const silent = await reach({ code: 7 });
    assert.match(silent.err, /: kubectl exec into curl: exit 7 \(log:/);
  });
});

describe('describeReach: how a reach reads', () => {
  it('no response names curl’s exit; a 200 is its status; another status carries the body when there is one', () => {
    assert.equal(describeReach({ status: '000', curlExit: 56, body: '' }), 'no response (curl exit 56)');
    assert.equal(describeReach({ status: '200', curlExit: 0, body: '<html>' }), 'HTTP 200');
    assert.equal(describeReach({ status: '403', curlExit: 0, body: 'RBAC: access denied' }), 'HTTP 403 (RBAC: access denied)');
    assert.equal(describeReach({ status: '404', curlExit: 0, body: '' }), 'HTTP 404');
  });
});

describe('the client in the mesh', () => {
  it('is the curl Deployment in Bookinfo’s namespace, deployed from the release’s sample, then waited for', () => {
    assert.deepEqual(meshClient, { namespace: 'bookinfo', kind: 'deployment', name: 'curl' });
    assert.deepEqual(
      deployMeshClient().map((t) => t.title),
      ['Deploy a client in the mesh (samples/curl/curl.yaml in bookinfo)', 'Wait for the client to be ready'],
    );
  });

  const wait = deployMeshClient()[1];
  const deployment = (available: boolean): Reply => ({
    stdout: JSON.stringify({
      kind: 'Deployment',
      metadata: { name: 'curl', namespace: 'bookinfo' },
      status: { conditions: [{ type: 'Available', status: available ? 'True' : 'False' }] },
    }),
  });

  it('an Available client is not waited for', async () => {
    const r = await runTasks([wait], (_a, _i, q) =>
      asks(q, 'get', { kind: 'deployment', name: 'curl' }) ? deployment(true) : undefined,
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.lines('# skip:'), ['# skip: deployment curl is Available']);
    assert.ok(!r.calls.some((c) => c.argv.includes('rollout')), 'no rollout status');
  });

  it('one not yet Available is waited for with rollout status', async () => {
    const r = await runTasks([wait], (_a, _i, q) =>
      asks(q, 'get', { kind: 'deployment', name: 'curl' }) ? deployment(false) : undefined,
    );
    assert.equal(r.code, 0, r.err);
    assert.ok(
      r.calls.some((c) => c.argv.join(' ').includes('-n bookinfo rollout status deployment curl --timeout=')),
      'rollout status of the client',
    );
  });
});

describe('checkRedirected: the CNI agent’s mark on every Bookinfo pod', () => {
  const pod = (name: string, o: { uid?: string; marked?: boolean; ready?: boolean; annotations?: false } = {}): Pod =>
    ({
      metadata: {
        name,
        uid: o.uid ?? `uid-${name}`,
        ...(o.annotations === false
          ? {}
          : { annotations: o.marked === false ? {} : { 'ambient.istio.io/redirection': 'enabled' } }),
      },
      spec: { containers: [{ name: 'app' }] },
      status: { containerStatuses: [{ name: 'app', ready: o.ready ?? true }] },
    }) as unknown as Pod;
  const check = (pods: Pod[], sameAs?: Pod[]) =>
    runTasks([checkRedirected('Check the pods are redirected', sameAs && (() => sameAs))], (_a, _i, q) =>
      asks(q, 'list', { kind: 'pods', namespace: 'bookinfo' }) ? { stdout: JSON.stringify({ items: pods }) } : undefined,
    );

  it('every pod marked: says so at once, without waiting', async () => {
    const r = await check([pod('details-v1-a'), pod('ratings-v1-b')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.lines('# shown:'), ['# shown: 2 pods: ambient.istio.io/redirection=enabled']);
    assert.deepEqual(r.lines('# progress:'), []);
  });

  it('a mark that comes a moment later is seen: each look asks the cluster anew', async () => {
    let looks = 0;
    const r = await runTasks([checkRedirected('Check the pods are redirected')], (_a, _i, q) => {
      if (!asks(q, 'list', { kind: 'pods', namespace: 'bookinfo' })) return undefined;
      looks++;
      return { stdout: JSON.stringify({ items: [pod('details-v1-a', { marked: looks > 1 })] }) };
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(looks, 2);
    assert.deepEqual(r.lines('# progress:'), ['# progress: 0 of 1 pods redirected to ztunnel']);
  });

  it('the same pods as before the label: says they are the same, by UID and readiness', async () => {
    const pods = [pod('details-v1-a'), pod('ratings-v1-b')];
    const r = await check(pods, pods);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.lines('# shown:'), [
      '# shown: 2 pods: ambient.istio.io/redirection=enabled, the same 2 pods as before the label (same UIDs, READY 1/1)',
    ]);
  });

  it('a pod never marked (or without annotations at all) fails after the wait, naming it and where to look', async () => {
    const r = await check([
      pod('details-v1-a'),
      pod('ratings-v1-b', { annotations: false }),
      pod('reviews-v1-c', { marked: false }),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /not redirected to ztunnel \(no ambient\.istio\.io\/redirection=enabled\): ratings-v1-b, reviews-v1-c/);
    assert.match(r.err, /see `kubectl --context lab -n istio-system logs daemonset\/istio-cni-node`/);
    assert.deepEqual([...new Set(r.lines('# progress:'))], ['# progress: 1 of 3 pods redirected to ztunnel']);
  });

  it('no pods at all is waited for, then no proof', async () => {
    const r = await check([]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no Bookinfo pods in bookinfo/);
    assert.match(r.err, /run `npm run ambient-bookinfo` again/);
    assert.deepEqual([...new Set(r.lines('# progress:'))], ['# progress: 0 of 0 pods redirected to ztunnel']);
  });

  it('a pod recreated, or one no longer ready, changed on joining: each named', async () => {
    const before = [pod('details-v1-a'), pod('ratings-v1-b'), pod('reviews-v1-c')];
    const now = [pod('details-v1-a', { uid: 'new' }), pod('ratings-v1-b', { ready: false }), pod('reviews-v1-c')];
    const r = await check(now, before);
    assert.equal(r.code, 1);
    assert.match(r.err, /pods changed on joining the mesh: details-v1-a, ratings-v1-b/);
  });
});

describe('checkPageThroughGateway: the product page through the Gateway-API gateway', () => {
  const through = (body: string) => {
    served = body;
    return runTasks([checkPageThroughGateway('Load the product page through the gateway')], (argv) =>
      argv.includes('port-forward') ? { hold: true, stdout: `Forwarding from 127.0.0.1:${port} -> 80\n` } : undefined,
    );
  };

  it('the product page: says where it was loaded from and through which gateway', async () => {
    const r = await through(page);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.lines('# shown:'), [
      `# shown: http://127.0.0.1:${port}/productpage through bookinfo-gateway-istio: <title>Simple Bookstore App</title>`,
    ]);
    assert.deepEqual(r.lines('# progress:'), []);
  });

  it('a connection the gateway resets is waited on, then fails with what fetch said', async () => {
    const r = await through('reset');
    assert.equal(r.code, 1);
    assert.match(r.err, /productpage is not the product page: fetch failed \(log:/);
  });

  it('another page is waited on, then fails with the start of what came', async () => {
    const r = await through(`  no healthy upstream${' and more'.repeat(20)}`);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      new RegExp(`127\\.0\\.0\\.1:${port}/productpage is not the product page: no healthy upstream( and more){6} and mo \\(log:`),
    );
    assert.deepEqual([...new Set(r.lines('# progress:'))], ['# progress: waiting for the gateway']);
  });
});

describe('checkFromClient: what the client in the mesh gets from productpage', () => {
  /** The client's answers, one list per method, taken in turn (the last one repeats). */
  const client = (answers: Record<string, Reply[]>, runtime = 'containerd://2.1.4') => {
    const asked: string[] = [];
    const respond: Responder = (argv, _i, query) => {
      if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson(runtime) };
      if (!argv.includes('exec')) return undefined;
      const method = argv[argv.indexOf('-X') + 1];
      asked.push(method);
      const mine = answers[method];
      return mine[Math.min(asked.filter((m) => m === method).length, mine.length) - 1];
    };
    return { asked, respond };
  };
  const ok: Reply = { stdout: '<html>HTTP_STATUS=200' };
  const denied: Reply = { stdout: 'RBAC: access denied HTTP_STATUS=403' };
  const check = (c: ReturnType<typeof client>) =>
    runTasks(
      [checkFromClient('Check GET gets the page and DELETE is denied', [expect.page, expect.rbacDenied('DELETE')])],
      c.respond,
    );

  it('each request as expected at once: says what each got, in the log too, without waiting', async () => {
    const c = client({ GET: [ok], DELETE: [denied] });
    const r = await check(c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(c.asked, ['GET', 'DELETE']);
    assert.deepEqual(r.lines('# shown:'), [
      '# shown: GET http://productpage:9080/productpage from curl: HTTP 200',
      '# shown: DELETE http://productpage:9080/productpage from curl: HTTP 403 (RBAC: access denied)',
    ]);
    assert.ok(
      r.log.includes(
        '# GET http://productpage:9080/productpage from curl: HTTP 200; DELETE http://productpage:9080/productpage from curl: HTTP 403 (RBAC: access denied)',
      ),
      'one line in the log',
    );
    assert.deepEqual(r.lines('# progress:'), []);
  });

  it('a policy that reaches the proxies a moment later is waited for, saying what is still wrong', async () => {
    const c = client({ GET: [ok], DELETE: [ok, denied] });
    const r = await check(c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(c.asked, ['GET', 'DELETE', 'GET', 'DELETE']);
    assert.deepEqual(r.lines('# progress:'), [
      '# progress: waiting for the policy to reach the proxies (DELETE http://productpage:9080/productpage from curl: HTTP 200, expected HTTP 403 (RBAC: access denied))',
    ]);
  });

  it('both wrong to the end: each named, in one error', async () => {
    const r = await check(client({ GET: [denied], DELETE: [ok] }));
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /GET http:\/\/productpage:9080\/productpage from curl: HTTP 403 \(RBAC: access denied\), expected HTTP 200; DELETE http:\/\/productpage:9080\/productpage from curl: HTTP 200, expected HTTP 403 \(RBAC: access denied\) \(log:/,
    );
  });

  it('a denial is RBAC’s only with its status and its body starting so', () => {
    const rbac = expect.rbacDenied('DELETE');
    assert.equal(rbac.ok({ status: '403', curlExit: 0, body: 'RBAC: access denied' }), true);
    assert.equal(rbac.ok({ status: '200', curlExit: 0, body: 'RBAC: access denied' }), false);
    assert.equal(rbac.ok({ status: '403', curlExit: 0, body: 'upstream said RBAC: access denied' }), false);
    assert.equal(expect.reset.ok({ status: '000', curlExit: 56, body: '' }), true);
    assert.equal(expect.reset.ok({ status: '000', curlExit: 7, body: '' }), false);
  });

  it('where no node runs containers it says so and sends nothing', async () => {
    const c = client({ GET: [ok], DELETE: [denied] }, 'kwok://v0.8.0');
    const r = await check(c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(c.asked, []);
    assert.match(r.log, /# no data plane \(kwok nodes\)/);
  });
});

describe('exposeThroughGatewayApi: the gateway made ClusterIP', () => {
  const gatewayWith = (annotations: Record<string, string>, conditions: { type: string; status: string }[]): Reply => ({
    stdout: JSON.stringify({ kind: 'Gateway', metadata: { name: 'bookinfo-gateway', annotations }, status: { conditions } }),
  });
  const route: Reply = { stdout: JSON.stringify({ kind: 'HTTPRoute', metadata: { name: 'bookinfo' } }) };
  const expose = (gateway: Reply) =>
    runTasks([exposeThroughGatewayApi], (_a, _i, q) => {
      if (asks(q, 'get', { kind: 'gateways.gateway.networking.k8s.io', name: 'bookinfo-gateway' })) return gateway;
      if (asks(q, 'get', { kind: 'httproutes.gateway.networking.k8s.io', name: 'bookinfo' })) return route;
      return undefined;
    });
  const clusterIp = { 'networking.istio.io/service-type': 'ClusterIP' };

  it('in place only when ClusterIP and Programmed=True', async () => {
    const done = await expose(
      gatewayWith(clusterIp, [
        { type: 'Accepted', status: 'True' },
        { type: 'Programmed', status: 'True' },
      ]),
    );
    assert.deepEqual(done.lines('# skip:'), ['# skip: gateway bookinfo-gateway is Programmed, its route in place']);
    for (const [annotations, conditions] of [
      [{}, [{ type: 'Programmed', status: 'True' }]],
      [clusterIp, [{ type: 'Programmed', status: 'False' }]],
      [clusterIp, [{ type: 'Accepted', status: 'True' }]],
    ] as const) {
      const r = await expose(gatewayWith(annotations, [...conditions]));
      assert.deepEqual(r.lines('# skip:'), [], JSON.stringify({ annotations, conditions }));
    }
  });

  it('annotates the Gateway only, says so in the log, and shows the wait’s own line', async () => {
    const r = await runTasks([exposeThroughGatewayApi], (argv) =>
      argv.includes('wait') ? { stdout: 'gateway.gateway.networking.k8s.io/bookinfo-gateway condition met\n' } : undefined,
    );
    assert.equal(r.code, 0, r.err);
    const apply = r.calls.find((c) => c.argv.includes('apply')) ?? assert.fail('nothing applied');
    const [gateway, route] = apply.input.split(/^---$/m);
    assert.match(gateway, /kind: Gateway\n/);
    assert.match(gateway, /networking\.istio\.io\/service-type: ClusterIP/);
    assert.match(route, /kind: HTTPRoute\n/);
    assert.doesNotMatch(route, /service-type/);
    assert.match(
      r.log,
      /apply -f - # stdin: Gateway\/bookinfo-gateway, HTTPRoute\/bookinfo \(networking\.istio\.io\/service-type=ClusterIP\)/,
    );
    assert.deepEqual(r.lines('# shown:'), ['# shown: gateway.gateway.networking.k8s.io/bookinfo-gateway condition met']);
  });
});

describe('installGatewayApi: the CRDs when missing', () => {
  const crd = (o: { ours: boolean; version?: string }): Reply => ({
    stdout: JSON.stringify({
      kind: 'CustomResourceDefinition',
      metadata: {
        name: 'gateways.gateway.networking.k8s.io',
        labels: o.ours ? { 'app.kubernetes.io/managed-by': 'fun-with-istio' } : {},
        annotations: o.version ? { 'gateway.networking.k8s.io/bundle-version': o.version } : {},
      },
    }),
  });
  const install = (found: Reply | undefined, env: Record<string, string> = {}, argv: string[] = []) =>
    runTasks(
      [installGatewayApi],
      (_a, _i, q) =>
        asks(q, 'get', { kind: 'customresourcedefinition', name: 'gateways.gateway.networking.k8s.io' }) ? found : undefined,
      { ISTIO_MODE: 'ambient', GATEWAY_API_CRDS: crdsFile, ...env },
      argv,
    );
  const notFound: Reply = { stdout: '' };

  it('says what it installs: the pinned version, the standard channel', () => {
    assert.equal(installGatewayApi.title, 'Install the Gateway API CRDs (v1.6.0, standard channel) if missing');
  });

  it('the tool’s own at the pin: in place', async () => {
    const r = await install(crd({ ours: true, version: 'v1.6.0' }));
    assert.deepEqual(r.lines('# skip:'), ['# skip: Gateway API v1.6.0 is installed']);
  });

  it('someone else’s, even without a version: left as it is, saying so', async () => {
    const r = await install(crd({ ours: false }));
    assert.deepEqual(r.lines('# skip:'), [
      '# skip: Gateway API of an unknown version is installed (not by fun-with-istio: left as it is)',
    ]);
  });

  it('missing: the given file checked, applied server-side under its name, and its CRDs waited for', async () => {
    const r = await install(notFound);
    assert.equal(r.code, 0, r.err);
    assert.ok(
      r.calls.some((c) => c.argv.join(' ') === 'kubectl --context lab apply -f - --server-side'),
      'applied server-side',
    );
    assert.match(r.log, /# stdin: Gateway API v1\.6\.0 standard-install\.yaml/);
    assert.deepEqual(r.lines('# shown:'), [`# shown: ${crdsFile}: 12 objects, verified`]);
  });

  it('missing, downloaded: says it was downloaded and verified', async () => {
    const r = await install(notFound, { GATEWAY_API_CRDS: `http://127.0.0.1:${port}/standard-install.yaml` });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.lines('# shown:'), ['# shown: downloaded: 12 objects, verified']);
  });

  it('a dry run downloads nothing, and says what it would check; a given file is read and checked all the same (one value off is refused)', async () => {
    const url = `http://127.0.0.1:${port}/never.yaml`;
    const dry = await install(notFound, { GATEWAY_API_CRDS: url }, ['--dry-run']);
    assert.equal(dry.code, 0, dry.err);
    assert.match(
      dry.log,
      new RegExp(`# would download ${url.replace(/\./g, '\\.')} and check its objects against the pinned digest`),
    );
    assert.deepEqual(dry.lines('# shown:'), []);
    const given = await install(notFound, {}, ['--dry-run']);
    assert.equal(given.code, 0, given.err);
    assert.doesNotMatch(given.log, /would download/);
    const tampered = await install(notFound, { GATEWAY_API_CRDS: tamperedFile }, ['--dry-run']);
    assert.equal(tampered.code, 1);
    assert.match(tampered.err, /is not Gateway API v1\.6\.0 \(standard-install\.yaml\)/);
  });
});
