// Tracing from configuration: the provider at install, the mesh-wide Telemetry in the addons chapter.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Query } from '../tasks/lib/run/requests.ts';
import { asks, cacheWithCa, fakeRunner, jsonpathOf, objectJson, runCli, tmpDir, versionAnswer } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const env = (extra: Record<string, string> = {}) => ({ CACHE_DIR: tmpDir('fwi-cache-'), ISTIO_HOME: release, ...extra });
const mesh =
  'extensionProviders:\n- name: zipkin\n  zipkin:\n    service: zipkin.istio-system.svc.cluster.local\n    port: 9411\n';
const ready = (query: Query | undefined) => (jsonpathOf(query) === '{.status.readyReplicas}' ? { stdout: '1' } : undefined);

describe('tracing', () => {
  it('install-istio adds the zipkin provider pointing at the Zipkin Service; TRACING=off adds none', async () => {
    const on = await runCli(['install-istio', '--dry-run'], { env: env() });
    assert.match(
      on.out,
      / install --set profile=demo --set meshConfig.enableTracing=true --set 'meshConfig.extensionProviders\[0\].name=zipkin' --set 'meshConfig.extensionProviders\[0\].zipkin.service=zipkin.istio-system.svc.cluster.local' --set 'meshConfig.extensionProviders\[0\].zipkin.port=9411' /,
    );
    const off = await runCli(['install-istio', '--dry-run'], { env: env({ TRACING: 'off' }) });
    assert.doesNotMatch(off.out, /extensionProviders/);
  });

  it('an Istio installed without the provider is installed again, in place', async () => {
    const fake = fakeRunner((_argv, _input, query) => {
      if (jsonpathOf(query).includes('containers[0].image}')) return { stdout: 'docker.io/istio/pilot:1.31.1' };
      if (jsonpathOf(query) === '{.data.mesh}') return { stdout: 'enableTracing: false\n' };
      return versionAnswer(query);
    });
    await runCli(['install-istio'], { env: env({ CACHE_DIR: await cacheWithCa() }), runner: fake.runner });
    assert.ok(
      fake.calls.some((c) => c.argv.includes('install') && c.argv.join(' ').includes('extensionProviders')),
      'istioctl install ran again with the extensionProviders',
    );
  });

  it('the addons chapter applies the mesh-wide Telemetry with the configured sampling', async () => {
    const fake = fakeRunner(
      (_argv, _input, query) => ready(query) ?? (jsonpathOf(query) === '{.data.mesh}' ? { stdout: mesh } : versionAnswer(query)),
    );
    await runCli(['addons'], { env: env({ TRACING_SAMPLING: '25' }), runner: fake.runner });
    const applied = fake.calls.find((c) => c.input.includes('kind: Telemetry'));
    assert.ok(applied, 'a Telemetry was applied');
    assert.match(applied.input, /name: mesh-default\n {2}namespace: istio-system/);
    const { load } = await import('js-yaml');
    assert.deepEqual((load(applied.input) as { spec: unknown }).spec, {
      tracing: [{ providers: [{ name: 'zipkin' }], randomSamplingPercentage: 25 }],
    });
  });

  it('a mesh-default Telemetry someone else made is never changed', async () => {
    const fake = fakeRunner((_argv, _input, query) => {
      const spec = { tracing: [{ providers: [{ name: 'zipkin' }], randomSamplingPercentage: 1 }] };
      if (asks(query, 'get', { kind: 'telemetry', name: 'mesh-default' }))
        return { stdout: objectJson('Telemetry', 'mesh-default', { spec }) };
      return ready(query) ?? versionAnswer(query);
    });
    const r = await runCli(['addons'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /telemetry\/mesh-default in istio-system was not made by fun-with-istio: refusing to change it/);
    assert.ok(!fake.calls.some((c) => c.input.includes('kind: Telemetry')), 'no Telemetry was sent to the cluster');
  });

  it('TRACING_SAMPLING is a percentage', async () => {
    const r = await runCli(['addons', '--dry-run'], { env: env({ TRACING_SAMPLING: '101' }) });
    assert.equal(r.code, 2);
    assert.match(r.err, /TRACING_SAMPLING="101": expected a percentage from 0 to 100/);
  });
});

describe('ADDONS', () => {
  it('resolves what each addon needs, in install order, and refuses two tracing backends or an unknown name', async () => {
    const { resolveAddons } = await import('../tasks/config.ts');
    const names = (list: string[]) => {
      const r = resolveAddons(list);
      return typeof r === 'string' ? r : r.map((a) => a.name);
    };
    assert.deepEqual(names(['kiali', 'jaeger']), ['prometheus', 'jaeger', 'kiali']);
    assert.deepEqual(names(['grafana']), ['prometheus', 'grafana']);
    assert.equal(names(['zipkin', 'jaeger']), 'zipkin and jaeger both receive traces on Service zipkin: choose one');
    assert.equal(names(['loki']), 'unknown addon loki; known: prometheus, grafana, zipkin, jaeger, kiali');
  });

  it('a bad list is a usage error before anything runs', async () => {
    const r = await runCli(['addons', '--dry-run'], { env: env({ ADDONS: 'prometheus, Zipkin ,jaeger' }) });
    assert.equal(r.code, 2);
    assert.match(r.err, /ADDONS="prometheus, Zipkin ,jaeger": zipkin and jaeger both receive traces/);
  });

  it('installs, waits for and traces to what the list names', async () => {
    const r = await runCli(['addons', '--dry-run'], { env: env({ ADDONS: 'kiali,jaeger' }) });
    assert.equal(r.code, 0, r.err);
    const applied = r.out
      .split('\n')
      .filter((l) => l.includes('apply -f -'))
      .map((l) => l.replace(/.*# stdin: /, ''));
    assert.equal(applied.length, 4, applied.join('\n')); // prometheus, jaeger, kiali, the Telemetry
    assert.match(applied[1], /Deployment\/jaeger/);
    assert.match(r.out, /wait deployment\/prometheus deployment\/jaeger deployment\/kiali /);
    assert.match(r.out, /^\$ kubectl .* -n istio-system get service -o json$/m);
    assert.match(applied[3], /^Telemetry\/mesh-default$/);
  });

  it('without a tracing addon nothing is traced: no provider at install, no Telemetry', async () => {
    const r = await runCli(['all', '--dry-run'], { env: env({ ADDONS: 'prometheus,grafana' }) });
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /extensionProviders|stdin: Telemetry/);
    assert.match(r.out, /^# Keep tracing off \(no Telemetry mesh-default\)$/m);
  });
});
