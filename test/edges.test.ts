// Chapters on clusters and inputs the happy path does not meet: objects that are the user's, a cluster without
// Istio, a failed Job, an empty setting, Ctrl-C at awkward moments. Each test failed on the code before its fix.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../Taskfile.ts';
import type { Query } from '../tasks/lib/run/requests.ts';
import { FakeApi } from './fake-api.ts';
import {
  asks,
  fakeRunner,
  jsonpathOf,
  listJson,
  nodesJson,
  objectJson,
  type Reply,
  runCli,
  spawnCli,
  tmpDir,
  versionAnswer,
} from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const env = (extra: Record<string, string> = {}) => ({ CACHE_DIR: tmpDir('fwi-cache-'), ISTIO_HOME: release, ...extra });
const mesh =
  'extensionProviders:\n- name: zipkin\n  zipkin:\n    service: zipkin.istio-system.svc.cluster.local\n    port: 9411\n';
/** A cluster that answers the chapters' prerequisites; `over` answers the rest. */

/**
 * A cluster where Istio is installed and every workload is ready; `over` answers first, by what a command asks (or,
 * for a command that asks nothing typed, e.g. `get --raw`, by its command line).
 */
const cluster = (over: (query: Query | undefined, cmd: string) => Reply | undefined = () => undefined) =>
  fakeRunner((argv, _input, query) => {
    const answer = over(query, argv.join(' '));
    if (answer) return answer;
    if (query?.op === 'version') return versionAnswer(query);
    if (jsonpathOf(query) === '{.status.readyReplicas}') return { stdout: '1' };
    if (jsonpathOf(query) === '{.data.mesh}') return { stdout: mesh };
    return undefined;
  });

describe('chapters on clusters and inputs the happy path does not meet', () => {
  it('addons with one exposed Service (ADDONS=zipkin) reads its node port from a list', async () => {
    const fake = cluster((query) => {
      if (!asks(query, 'list', { kind: 'service', namespace: 'istio-system' })) return undefined;
      // The node port comes from the list of istio-system's Services (one named object would be no list).
      const spec = { type: 'NodePort', ports: [{ nodePort: 31001 }] };
      return { stdout: listJson(objectJson('Service', 'zipkin', { managed: true, spec })) };
    });
    const r = await runCli(['addons'], { env: env({ ADDONS: 'zipkin' }), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
  });

  it('an addon Deployment the tool did not make is never applied over', async () => {
    const fake = cluster((query) =>
      asks(query, 'list', { kind: 'deployment', namespace: 'istio-system' })
        ? { stdout: listJson(objectJson('Deployment', 'prometheus')) }
        : undefined,
    );
    const r = await runCli(['addons'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /deployment\/prometheus in istio-system was not made by fun-with-istio: refusing to change it/);
    assert.ok(!fake.calls.some((c) => c.argv.includes('apply')), 'nothing was applied');
  });

  it('traces are not turned on for a mesh without the provider; the suggestion names install-istio', async () => {
    const fake = cluster((query) => (jsonpathOf(query) === '{.data.mesh}' ? { stdout: 'enableTracing: false\n' } : undefined));
    const r = await runCli(['addons'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /the mesh config has no zipkin provider .*\n {2}suggestion: run `npm run install-istio` \(it adds it\)\n$/,
    );
  });

  it("TRACING=off leaves a user's own mesh-default Telemetry alone instead of failing", async () => {
    const fake = cluster((query) => {
      if (asks(query, 'get', { kind: 'telemetry', name: 'mesh-default' }))
        return { stdout: objectJson('Telemetry', 'mesh-default') };
      const service = (name: string, nodePort: number) =>
        objectJson('Service', name, { managed: true, spec: { type: 'NodePort', ports: [{ nodePort }] } });
      return asks(query, 'list', { kind: 'service', namespace: 'istio-system' })
        ? { stdout: listJson(service('grafana', 31000), service('zipkin', 31001)) }
        : undefined;
    });
    const r = await runCli(['addons'], { env: env({ TRACING: 'off' }), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.ok(!fake.calls.some((c) => c.argv.includes('delete')), 'nothing was deleted');
  });

  it('a traffic Job that failed is replaced, not taken as done', async () => {
    const fake = cluster((query, cmd) => {
      // the count matches; nothing succeeded
      const job = { managed: true, annotations: { 'fun-with-istio/requests': '100' }, status: {} };
      if (asks(query, 'get', { kind: 'job', name: 'traffic' })) return { stdout: objectJson('Job', 'traffic', job) };
      if (query?.op === 'get') return { stdout: objectJson('Object', 'found', { managed: true }) };
      if (cmd.includes('/services/prometheus')) return { stdout: '{"status":"success","data":{"result":[{"value":[1,"100"]}]}}' };
      if (cmd.includes('--raw')) return { stdout: '[[{}]]' };
      return undefined;
    });
    const r = await runCli(['traffic'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.ok(
      fake.calls.some((c) => c.argv.join(' ').includes('delete job traffic')),
      'the failed Job was deleted',
    );
    const job = fake.calls.find((c) => c.input.includes('kind: Job'));
    assert.match(job?.input ?? '', /sidecar\.istio\.io\/inject: 'false'/);
  });

  it('Ctrl-C while the traffic proof waits is an interruption (130), not a failure', async () => {
    const controller = new AbortController();
    const fake = cluster((query, cmd) => {
      const job = { managed: true, annotations: { 'fun-with-istio/requests': '100' }, status: { succeeded: 1 } };
      if (!cmd.includes('--raw'))
        return asks(query, 'get', { kind: 'job', name: 'traffic' }) ? { stdout: objectJson('Job', 'traffic', job) } : undefined;
      setImmediate(() => controller.abort()); // the proof now waits for Prometheus: press Ctrl-C
      return { stdout: '{"status":"success","data":{"result":[]}}' };
    });
    let err = '';
    const code = await main(['traffic'], {
      env: { HOME: tmpDir('fwi-home-'), PATH: process.env.PATH ?? '', ...env() },
      envFile: '/nonexistent/.env',
      runner: fake.runner,
      renderer: 'silent',
      signal: controller.signal,
      out: () => {},
      err: (t) => (err += t),
    });
    process.exitCode = 0;
    assert.equal(code, 130, err);
    assert.match(err, /^interrupted: /);
  });

  it('an empty environment variable does not hide .env; an empty ADDONS is refused', async () => {
    const { loadConfig } = await import('../tasks/config.ts');
    const file = path.join(tmpDir(), '.env');
    writeFileSync(file, 'ADDONS=prometheus,grafana\n');
    const c = loadConfig({ env: { HOME: '/h', ADDONS: '' }, envFile: file });
    assert.deepEqual(
      c.addons.map((a) => a.name),
      ['prometheus', 'grafana'],
    );
    assert.throws(
      () => loadConfig({ env: { HOME: '/h', ADDONS: ',' }, envFile: '/nonexistent' }),
      /ADDONS=",": name at least one addon/,
    );
  });

  it('dashboard --open: Ctrl-C ends it with exit 0 though the browser opener still runs', async () => {
    const bin = tmpDir('fwi-stub-');
    const script = (name: string, body: string) => {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    };
    // A reachable cluster's version, then a port-forward held until it is killed.
    script(
      'kubectl',
      `case "$*" in *" version "*) echo '{"serverVersion":{"gitVersion":"v1.36.3"}}'; exit 0;; esac
echo "Forwarding from 127.0.0.1:41234 -> 3000"; exec sleep 600`,
    );
    script('xdg-open', 'exec sleep 600');
    script('open', 'exec sleep 600');
    const p = spawnCli(['dashboard', 'grafana', '--open'], bin);
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((resolve) => p.on('close', resolve));
    await Promise.race([
      new Promise<void>((resolve) => p.stdout.on('data', (d) => String(d).includes('http://127.0.0.1:41234/') && resolve())),
      closed.then((code) => assert.fail(`dashboard ended (exit ${code}) before it printed the URL: ${err}`)),
    ]);
    p.kill('SIGINT');
    assert.equal(await closed, 0, err);
    assert.doesNotMatch(err, /\n\s+at /);
  });
});

describe("teardown and a user's own sleep", () => {
  it('leaves it alone and removes the rest, instead of stopping', async () => {
    const fake = cluster((query) => {
      if (asks(query, 'get', { kind: 'deployment', name: 'sleep' })) return { stdout: objectJson('Deployment', 'sleep') };
      if (asks(query, 'get', { kind: 'namespace', name: 'istio-system' }))
        return { stdout: objectJson('Namespace', 'istio-system', { managed: true }) };
      if (asks(query, 'get', { kind: 'deployment', name: 'istiod' })) return { stdout: objectJson('Deployment', 'istiod') };
      return undefined;
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: env({ CLUSTER: 'existing', KUBE_CONTEXT: 'lab' }),
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    const changes = fake.calls.map((c) => c.argv.join(' ')).filter((c) => / (delete|uninstall) /.test(c));
    assert.ok(
      changes.some((c) => c.includes('uninstall --purge')),
      changes.join('\n'),
    );
    assert.ok(!changes.some((c) => c.includes('delete -f -')), 'the sleep sample was not deleted');
    const log = readFileSync(/\(log: (\S+\.log)\)/.exec(r.err)?.[1] ?? '', 'utf8');
    assert.match(log, /^# skip: this sleep is not fun-with-istio's: left alone$/m);
  });
});

/** The cluster of this file, also remembering the PeerAuthentication each apply sends (as the API server would). */
function clusterKeeping(keep: (doc: unknown) => void, over: Parameters<typeof cluster>[0]) {
  return cluster((query, cmd) => {
    if (query?.op === 'send' && query.verb === 'apply')
      for (const doc of query.objects) if (doc.kind === 'PeerAuthentication') keep(doc);
    return over?.(query, cmd);
  });
}

describe("a cluster without Istio, and objects that are the user's", () => {
  it("teardown on a cluster that never had Istio's CRDs is a quick no-op, not an error", async () => {
    const fake = cluster((query) => {
      const kind = query && 'ref' in query ? query.ref.kind : '';
      return /^(peerauthentication|telemetry)$/.test(kind)
        ? { code: 1, stderr: `error: the server doesn't have a resource type "${kind}"\n` }
        : undefined;
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: env({ CLUSTER: 'existing', KUBE_CONTEXT: 'lab' }),
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(!fake.calls.some((c) => / (delete|uninstall) /.test(c.argv.join(' '))), 'nothing to delete');
  });

  it("mtls puts back a user's own PeerAuthentication without the tool's label, and never takes theirs for a kept end", async () => {
    // Theirs: the same mode as the chapter's own end, but their own labels and not the tool's.
    let current = JSON.stringify({
      kind: 'PeerAuthentication',
      metadata: { name: 'default', labels: { team: 'payments' } },
      spec: { mtls: { mode: 'PERMISSIVE' } },
    });
    const fake = clusterKeeping(
      (doc) => (current = JSON.stringify(doc)),
      (query) => {
        if (asks(query, 'list', { kind: 'peerauthentication', namespace: 'istio-system' })) return { stdout: listJson(current) };
        if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('kwok://v0.8.0') }; // the checks say "not here"
        return query?.op === 'get' ? { stdout: objectJson('Object', 'x', { managed: true }) } : undefined;
      },
    );
    const r = await runCli(['mtls'], { env: env({ WAIT_TIMEOUT: '2s' }), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const applied = fake.calls.filter((c) => c.argv.includes('apply') && c.input.includes('kind: PeerAuthentication'));
    // STRICT was applied (their PERMISSIVE is no end state the tool kept), then theirs restored as it was: unlabelled.
    assert.match(applied[0]?.input ?? '', /mode: STRICT/);
    const restored = applied.at(-1)?.input ?? '';
    assert.match(restored, /mode: PERMISSIVE/);
    assert.doesNotMatch(restored, /managed-by/);
    // Theirs, not the chapter's own PERMISSIVE: their labels came back with it.
    assert.match(restored, /team: payments/);
  });

  it("request-routing puts back a user's own VirtualService it changed: their spec, their labels, not the tool's", async () => {
    // What the API server holds: their reviews VirtualService (all to v3), then whatever the chapter applies or deletes.
    const theirs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'bookinfo', labels: { team: 'payments' } },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }] },
    };
    const api = new FakeApi();
    api.put(theirs);
    const fake = fakeRunner((_argv, _input, query) => {
      if (asks(query, 'list', { kind: 'nodes' })) return { stdout: nodesJson('kwok://v0.8.0') }; // the checks say "not here"
      if (query?.op === 'field' && query.jsonpath === '{.status.readyReplicas}') return { stdout: '1' };
      if (query?.op === 'version') return versionAnswer(query);
      const kept = api.answer(query);
      return kept?.code ? undefined : kept; // what the API server does not hold is answered as found and empty
    });
    const r = await runCli(['request-routing'], { env: env({ WAIT_TIMEOUT: '2s' }), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const held = api.list('virtualservice', 'bookinfo');
    assert.deepEqual(
      held.map((o) => o.metadata?.name),
      ['reviews'],
      'what the chapter added is gone, theirs is back',
    );
    const back = held[0] as typeof theirs;
    assert.deepEqual(back.spec, theirs.spec, "their routing (all to v3), not the chapter's");
    assert.deepEqual(back.metadata.labels, { team: 'payments' }, "their labels, without the tool's");
  });
});
