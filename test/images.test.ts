// Images ahead of need: the list is derived from what the run applies, and on minikube `all` loads the missing ones
// in the background and waits for them at the end, without failing the run when the registry is out of reach.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fullImageName, injectedProxyImage, workloadImages } from '../tasks/lib/apps/images.ts';
import type { K8sObject } from '../tasks/lib/kube/manifests.ts';
import { fakeRunner, runCli, tmpDir } from './helpers.ts';

const deployment = (images: string[], init: string[] = []): K8sObject => ({
  kind: 'Deployment',
  spec: {
    template: { spec: { containers: images.map((image) => ({ image })), initContainers: init.map((image) => ({ image })) } },
  },
});
const injector = (global: object): K8sObject => ({
  kind: 'ConfigMap',
  metadata: { name: 'istio-sidecar-injector' },
  data: { values: JSON.stringify({ global }) },
});

describe('the images a run needs', () => {
  it('are the concrete images of every workload, init containers included; auto and templates are not images', () => {
    const cronJob: K8sObject = {
      kind: 'CronJob',
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 'busybox:1.36' }] } } } } },
    };
    const docs = [deployment(['docker.io/istio/pilot:1.31.1', 'auto'], ['{{ .ProxyImage }}']), cronJob, { kind: 'Service' }];
    assert.deepEqual(workloadImages(docs), ['docker.io/istio/pilot:1.31.1', 'busybox:1.36']);
  });

  it('a container without an image, a pod without containers or a CronJob without a job spec add nothing', () => {
    const docs: K8sObject[] = [
      { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'no-image' }] } } } },
      { kind: 'Deployment', spec: { template: { spec: { initContainers: [{ image: 'init:1' }] } } } },
      { kind: 'Job', spec: { template: { spec: { containers: [{ image: 'job:1' }] } } } },
      { kind: 'CronJob', spec: { jobTemplate: {} } },
      { kind: 'Deployment', spec: { template: {} } },
    ];
    assert.deepEqual(workloadImages(docs), ['init:1', 'job:1']);
  });

  it('include the sidecar the injector adds, from its values (hub, image, tag, variant)', () => {
    assert.deepEqual(injectedProxyImage([injector({ hub: 'docker.io/istio', tag: '1.31.1', proxy: { image: 'proxyv2' } })]), [
      'docker.io/istio/proxyv2:1.31.1',
    ]);
    const distroless = injector({
      hub: 'gcr.io/istio-release',
      tag: '1.31.1',
      variant: 'distroless',
      proxy: { image: 'proxyv2' },
    });
    assert.deepEqual(injectedProxyImage([distroless]), ['gcr.io/istio-release/proxyv2:1.31.1-distroless']);
    assert.deepEqual(injectedProxyImage([deployment(['x'])]), []);
  });

  it("take the injector's proxy image as written when it is a full name", () => {
    const full = injector({ hub: 'docker.io/istio', tag: '1.31.1', proxy: { image: 'registry.example/mesh/proxyv2:7' } });
    assert.deepEqual(injectedProxyImage([full]), ['registry.example/mesh/proxyv2:7']);
  });

  it('only the ConfigMap istio-sidecar-injector names the sidecar; without a proxy image it names none', () => {
    const values = { hub: 'docker.io/istio', tag: '1.31.1', proxy: { image: 'proxyv2' } };
    const otherConfigMap = { ...injector(values), metadata: { name: 'istio' } };
    const notAConfigMap = { ...injector(values), kind: 'Secret' };
    const nameless = { kind: 'ConfigMap', data: injector(values).data };
    assert.deepEqual(injectedProxyImage([otherConfigMap, notAConfigMap, nameless]), []);
    assert.deepEqual(injectedProxyImage([injector({ hub: 'docker.io/istio', tag: '1.31.1' })]), [], 'no proxy');
    assert.deepEqual(injectedProxyImage([injector({ hub: 'docker.io/istio', proxy: {} })]), [], 'a proxy without an image');
    assert.deepEqual(injectedProxyImage([{ kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector' }, data: {} }]), []);
    const noGlobal = { kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector' }, data: { values: '{}' } };
    assert.deepEqual(injectedProxyImage([noGlobal]), [], 'values without global');
  });

  it('are compared by their full names, as `minikube image ls` prints them', () => {
    assert.equal(fullImageName('busybox:1.28'), 'docker.io/library/busybox:1.28');
    assert.equal(fullImageName('curlimages/curl:8.16.0'), 'docker.io/curlimages/curl:8.16.0');
    assert.equal(fullImageName('ghcr.io/prometheus-operator/x:v1'), 'ghcr.io/prometheus-operator/x:v1');
    assert.equal(fullImageName('localhost:5000/app:1'), 'localhost:5000/app:1');
    assert.equal(fullImageName('localhost/app:1'), 'localhost/app:1');
    assert.equal(fullImageName('library/busybox:1.28'), 'docker.io/library/busybox:1.28');
  });
});

describe('imagesAhead: the list versions prints and all loads', () => {
  const release = path.join(import.meta.dirname, 'fixtures', 'release');
  // What `istioctl manifest generate` renders: istiod, the injector's values, and curl again under its short name.
  const values = JSON.stringify({ global: { hub: 'docker.io/istio', tag: '1.31.1', proxy: { image: 'proxyv2' } } });
  const rendered = [
    'kind: Deployment\nmetadata: {name: istiod}\nspec: {template: {spec: {containers: [{image: docker.io/istio/pilot:1.31.1}]}}}',
    `kind: ConfigMap\nmetadata: {name: istio-sidecar-injector}\ndata:\n  values: '${values}'`,
    'kind: Job\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{image: curlimages/curl:8.16.0}]}}}',
  ].join('\n---\n');
  const listed = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim());

  it('the rendered install with its own flags, the addons and the samples: each image once, by full name, sorted', async () => {
    const fake = fakeRunner((argv) => (argv.includes('generate') ? { stdout: `${rendered}\n` } : undefined));
    const r = await runCli(['versions'], { env: { ISTIO_HOME: release, CACHE_DIR: tmpDir() }, runner: fake.runner });
    assert.deepEqual(listed(r.out), [
      'docker.io/curlimages/curl:8.16.0',
      'docker.io/grafana/grafana:12.1.1',
      'docker.io/istio/pilot:1.31.1',
      'docker.io/istio/proxyv2:1.31.1',
      'docker.io/mccutchen/go-httpbin:v2.15.0',
      'docker.io/openzipkin/zipkin-slim:3.4.0',
      'docker.io/prom/prometheus:v3.5.0',
    ]);
    const generate = fake.calls.find((c) => c.argv.includes('generate'))?.argv ?? [];
    assert.deepEqual(generate.slice(3, 5), ['manifest', 'generate']);
    assert.deepEqual(generate.slice(5, 7), ['--set', 'profile=demo'], 'rendered with the install flags');
  });

  it('an install that renders nothing leaves the addons and samples', async () => {
    const fake = fakeRunner((argv) => (argv.includes('generate') ? { stdout: ' \n' } : undefined));
    const r = await runCli(['versions'], {
      env: { ISTIO_HOME: release, CACHE_DIR: tmpDir(), ADDONS: 'prometheus' },
      runner: fake.runner,
    });
    assert.deepEqual(listed(r.out), [
      'docker.io/curlimages/curl:8.16.0',
      'docker.io/mccutchen/go-httpbin:v2.15.0',
      'docker.io/prom/prometheus:v3.5.0',
    ]);
  });

  it('in ambient mode: Bookinfo instead of httpbin, curl and the sleep sample, and the ambient profile rendered', async () => {
    const fake = fakeRunner((argv) => (argv.includes('generate') ? { stdout: ' \n' } : undefined));
    const r = await runCli(['versions'], {
      env: { ISTIO_HOME: release, CACHE_DIR: tmpDir(), ADDONS: 'prometheus', ISTIO_MODE: 'ambient' },
      runner: fake.runner,
    });
    const images = listed(r.out);
    assert.ok(images.includes('docker.io/prom/prometheus:v3.5.0'), images.join(', '));
    assert.ok(
      images.some((i) => i.startsWith('docker.io/istio/examples-bookinfo-productpage-v1:')),
      images.join(', '),
    );
    assert.ok(
      images.some((i) => i.startsWith('docker.io/istio/examples-bookinfo-reviews-v3:')),
      images.join(', '),
    );
    for (const sidecarOnly of ['curl', 'go-httpbin', 'sleep'])
      assert.ok(!images.some((i) => i.includes(sidecarOnly)), `${sidecarOnly} is the sidecar track's`);
    const generate = fake.calls.find((c) => c.argv.includes('generate'))?.argv ?? [];
    assert.deepEqual(generate.slice(5, 7), ['--set', 'profile=ambient']);
  });

  it('an install that renders no valid YAML is an error that says where it came from', async () => {
    const fake = fakeRunner((argv) => (argv.includes('generate') ? { stdout: 'kind: [unclosed\n' } : undefined));
    const r = await runCli(['versions'], { env: { ISTIO_HOME: release, CACHE_DIR: tmpDir() }, runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: istioctl manifest generate is not valid YAML: /);
  });

  it('before the release is there (a dry run on a new machine): the sample alone', async () => {
    const r = await runCli(['all', '--dry-run'], { env: { CACHE_DIR: tmpDir('fwi-cache-') } });
    const load = r.out.split('\n').find((l) => l.startsWith('$ ') && l.includes('image load'));
    assert.equal(load, '$ minikube -p fun-with-istio image load --overwrite=false docker.io/curlimages/curl:8.16.0');
  });
});

describe('all on minikube pulls the images ahead', () => {
  const release = path.join(import.meta.dirname, 'fixtures', 'release');
  const env = { CACHE_DIR: tmpDir('fwi-cache-'), ISTIO_HOME: release };
  const run = (respond: (cmd: string) => { stdout?: string; stderr?: string; code?: number } | undefined) => {
    const fake = fakeRunner((argv) => respond(argv.join(' ')));
    return { fake, result: runCli(['all', '--dry-run'], { env, runner: fake.runner }) };
  };

  it('lists the derived image load in the dry run, after the node and the release, in the background', async () => {
    const { result } = run(() => undefined);
    const r = await result;
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    const load = lines.findIndex((l) => l.includes('image load --overwrite=false'));
    assert.ok(load > lines.findIndex((l) => l.includes(' start --kubernetes-version')), 'after minikube start');
    assert.ok(load < lines.findIndex((l) => l.includes(' install --set profile=')), 'before istioctl install');
    assert.match(lines[load], /docker\.io\/curlimages\/curl:8\.16\.0/);
    assert.match(r.out, /# Finish pulling the images ahead/);
  });
});
