// Images ahead of need: the list is derived from what the run applies, and on minikube `all` loads the missing ones
// in the background and waits for them at the end, without failing the run when the registry is out of reach.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fullImageName, injectedProxyImage, workloadImages } from '../tasks/lib/images.ts';
import type { K8sObject } from '../tasks/lib/manifests.ts';
import { fakeSpawn, runCli, tmpDir } from './helpers.ts';

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

  it('are compared by their full names, as `minikube image ls` prints them', () => {
    assert.equal(fullImageName('busybox:1.28'), 'docker.io/library/busybox:1.28');
    assert.equal(fullImageName('curlimages/curl:8.16.0'), 'docker.io/curlimages/curl:8.16.0');
    assert.equal(fullImageName('ghcr.io/prometheus-operator/x:v1'), 'ghcr.io/prometheus-operator/x:v1');
    assert.equal(fullImageName('localhost:5000/app:1'), 'localhost:5000/app:1');
  });
});

describe('all on minikube pulls the images ahead', () => {
  const release = path.join(import.meta.dirname, 'fixtures', 'release');
  const env = { CACHE_DIR: tmpDir('fwi-cache-'), ISTIO_HOME: release };
  const run = (respond: (cmd: string) => { stdout?: string; stderr?: string; code?: number } | undefined) => {
    const fake = fakeSpawn((argv) => respond(argv.join(' ')));
    return { fake, result: runCli(['all', '--dry-run'], { env, spawn: fake.spawn }) };
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
