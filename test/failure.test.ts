// The one error line keeps the tool's reason: output captured from the real minikube (v1.38.1, the lab's build),
// and the shapes kubectl and istioctl print.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { failureReason } from '../tasks/lib/exec/failure.ts';
import type { Query } from '../tasks/lib/run/requests.ts';
import { fakeRunner, installIstioOffline, runCli, tmpDir, versionAnswer } from './helpers.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', 'stderr', name), 'utf8');

describe('failureReason', () => {
  it("minikube: the 'Exiting due to' line and the suggestion, not the documentation link", () => {
    assert.deepEqual(failureReason('minikube', fixture('minikube-docker-not-running.txt')), {
      reason:
        'Exiting due to PROVIDER_DOCKER_NOT_RUNNING: "docker version --format <no value>-<no value>:<no value>" exit status 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      suggestion: 'Start the Docker service',
    });
  });

  it("minikube: the reason above the box, not the box's border", () => {
    const r = failureReason('minikube', fixture('minikube-guest-provision.txt'));
    assert.match(r.reason ?? '', /^Exiting due to GUEST_PROVISION: error provisioning guest/);
    assert.equal(r.suggestion, undefined);
  });

  it("kubectl: its error line, even with other lines after it; istioctl: its 'Error:' line", () => {
    const kubectl = "error: name cannot be provided when a selector is specified\nSee 'kubectl get -h' for help and examples\n";
    assert.equal(failureReason('kubectl', kubectl).reason, 'error: name cannot be provided when a selector is specified');
    const istioctl = '2026-11-26T15:00:00Z\tinfo\tsomething\nError: failed to setup client: context "lab" does not exist\n';
    assert.equal(failureReason('istioctl', istioctl).reason, 'Error: failed to setup client: context "lab" does not exist');
  });

  it('kubectl: a kubelet the API server cannot reach (exec, port-forward on a node that runs no containers) says so', () => {
    const dialing =
      'error: error upgrading connection: error dialing backend: dial tcp 127.0.0.1:10250: connect: connection refused\n';
    assert.equal(
      failureReason('kubectl', dialing).reason,
      "error: error upgrading connection: error dialing backend: dial tcp 127.0.0.1:10250: connect: connection refused (the API server cannot reach the node's kubelet: is the node up and running containers?)",
    );
    assert.equal(failureReason('kubectl', 'error: pods "x" not found\n').reason, 'error: pods "x" not found');
  });

  it("kubectl: istiod's webhook not answering (a write the API server could not check) names istiod; another webhook does not", () => {
    const refused =
      'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "validation.istio.io": failed to call webhook: Post "https://127.0.0.1:15017/validate?timeout=10s": dial tcp 127.0.0.1:15017: connect: connection refused\n';
    const got = failureReason('kubectl', refused);
    assert.equal(got.reason, refused.trim());
    assert.equal(
      got.suggestion,
      "istiod's webhook validation.istio.io did not answer: check that istiod runs (kubectl -n istio-system get pods -l app=istiod), then re-run",
    );
    const other = refused.replace('validation.istio.io', 'policy.example.com');
    assert.equal(failureReason('kubectl', other).suggestion, undefined);
  });
});

describe('the error line of a failed minikube start', () => {
  it("names minikube's reason, with its suggestion on a second line", async () => {
    const bin = tmpDir('fwi-bin-');
    const { chmodSync, writeFileSync } = await import('node:fs');
    for (const tool of ['minikube', 'kubectl', 'docker']) {
      writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 99\n');
      chmodSync(path.join(bin, tool), 0o755);
    }
    const env = { CACHE_DIR: tmpDir('fwi-cache-'), PATH: `${bin}:${process.env.PATH}` };
    const fake = fakeRunner((argv, _input, query) => {
      if (query?.op === 'profile-status') return { code: 85 };
      if (argv.includes('start')) return { code: 63, stderr: fixture('minikube-docker-not-running.txt') };
      return versionAnswer(query);
    });
    const r = await runCli(['minikube'], { env, runner: fake.runner });
    assert.equal(r.code, 1);
    const lines = r.err.trimEnd().split('\n');
    assert.match(lines[0], /^error: Start minikube .*: minikube exited with 63: Exiting due to PROVIDER_DOCKER_NOT_RUNNING: /);
    assert.equal(lines[1], '  suggestion: Start the Docker service');
  });
});

/** A bin/ where minikube, kubectl and docker are installed (found on PATH); what they answer is the runner's. */
function installedTools(): string {
  const bin = tmpDir('fwi-bin-');
  for (const tool of ['minikube', 'kubectl', 'docker']) {
    writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 99\n');
    chmodSync(path.join(bin, tool), 0o755);
  }
  return bin;
}

describe('versions', () => {
  it('says the docker driver is installed but its daemon is not running, and exits 1', async () => {
    const bin = installedTools();
    const fake = fakeRunner((argv, _input, query) => {
      if (argv[0] === 'docker')
        return { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n' };
      if (query?.op === 'version' && query.of === 'client' && query.tool !== 'istioctl') return versionAnswer(query);
      return { code: 1 };
    });
    const r = await runCli(['versions'], {
      env: { CACHE_DIR: tmpDir('fwi-cache-'), PATH: `${bin}:${process.env.PATH}` },
      runner: fake.runner,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /minikube driver \(docker\) +running +installed, but the daemon is not running \(start Docker\) +<- needs attention/,
    );
  });
});

describe("kubectl's version skew: one rule, one wording", () => {
  it('three minor versions off: a warning in versions (still exit 0) and in the minikube chapter, in the same words', async () => {
    const bin = installedTools();
    const old = (_argv: string[], _input: string, query?: Query) =>
      query?.op === 'version' && query.tool === 'kubectl' && query.of === 'client'
        ? { stdout: '{"clientVersion":{"gitVersion":"v1.33.0"}}' }
        : (versionAnswer(query) ?? { stdout: '28.0.0' });
    const env = { CACHE_DIR: tmpDir('fwi-cache-'), PATH: `${bin}:${process.env.PATH}` };
    const words = 'kubectl v1.33.0 is more than one minor version from Kubernetes v1.36.3 (kubectl supports ±1)';
    const versions = await runCli(['versions'], { env, runner: fakeRunner(old).runner });
    assert.equal(versions.code, 0, versions.out);
    assert.ok(versions.out.includes(`<- warning: ${words}`), versions.out);
    const chapter = await runCli(['minikube', '--verbose'], {
      env: { ...env, CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
      runner: fakeRunner((argv, input, query) =>
        argv.includes('api-versions') ? { stdout: 'admissionregistration.k8s.io/v1\n' } : old(argv, input, query),
      ).runner,
    });
    assert.equal(chapter.code, 0, chapter.err);
    const log = readFileSync(/\(log: (\S+\.log)\)/.exec(chapter.err)?.[1] ?? '', 'utf8');
    assert.ok(log.includes(`warning: ${words}`), log);
  });
});

describe('each chapter checks what it needs first, and names the command that provides it', () => {
  const env = () => ({ CACHE_DIR: tmpDir('fwi-cache-'), PATH: process.env.PATH ?? '' });
  const noContext = fakeRunner((argv, _input, query) =>
    query?.op === 'version'
      ? { code: 1, stderr: 'error: context "fun-with-istio" does not exist\n' }
      : assert.fail(argv.join(' ')),
  );

  it('webhook-certs with no cluster: not reachable, run npm run minikube first; nothing else ran', async () => {
    const r = await runCli(['webhook-certs'], { env: env(), runner: noContext.runner });
    assert.equal(r.code, 1);
    const [line, suggestion] = r.err.trimEnd().split('\n');
    assert.match(
      line,
      /^error: Check the cluster is reachable: context fun-with-istio is not reachable: error: context "fun-with-istio" does not exist/,
    );
    assert.equal(suggestion, '  suggestion: run `npm run minikube` first');
  });

  it('all without minikube, offline: the missing tools are the error, before any download or key is made', async () => {
    const { existsSync } = await import('node:fs');
    const cache = tmpDir('fwi-cache-');
    const env = { CACHE_DIR: cache, PATH: tmpDir('fwi-empty-'), ISTIO_RELEASE_URL: 'http://127.0.0.1:9/none' };
    const r = await runCli(['all'], { env });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Check the tools and their versions: missing: minikube /);
    assert.equal(existsSync(path.join(cache, 'downloads')), false, 'nothing was downloaded');
    assert.equal(existsSync(path.join(cache, 'certs')), false, 'no CA was made');
  });

  it('install-istio checks the cluster before it downloads anything', async () => {
    const { cache, r } = await installIstioOffline(noContext.runner);
    assert.equal(r.code, 1);
    assert.match(r.err, /is not reachable/);
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(path.join(cache, 'downloads')), false);
  });

  it('kube-inject and teardown --keep-cluster check the cluster first too (kube-inject before it downloads)', async () => {
    const { existsSync } = await import('node:fs');
    const cache = tmpDir('fwi-cache-');
    const offline = { CACHE_DIR: cache, ISTIO_RELEASE_URL: 'http://127.0.0.1:9/none' };
    for (const argv of [
      ['kube-inject', 'manifests/sleep.yaml'],
      ['teardown', '--yes', '--keep-cluster'],
    ]) {
      const r = await runCli(argv, { env: offline, runner: noContext.runner });
      assert.equal(r.code, 1, argv[0]);
      assert.match(r.err, /context fun-with-istio is not reachable: error: context "fun-with-istio" does not exist/, argv[0]);
      assert.match(r.err, /\n {2}suggestion: run `npm run minikube` first\n$/, argv[0]);
    }
    assert.equal(existsSync(path.join(cache, 'downloads')), false, 'nothing was downloaded');
  });

  it('injection without istiod: run npm run install-istio first, before any change', async () => {
    const fake = fakeRunner((_argv, _input, query) => versionAnswer(query));
    const r = await runCli(['injection'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Check Istio runs \(istiod ready\): istiod is not ready in istio-system/);
    assert.match(r.err, /\n {2}suggestion: run `npm run install-istio` first\n$/);
    assert.ok(
      fake.calls.every((c) => !/ (label|apply|create|annotate|patch) /.test(c.argv.join(' '))),
      'nothing was labelled, applied, created, annotated or patched',
    );
  });

  it('teardown without minikube installed: nothing to delete, not an error', async () => {
    const fake = fakeRunner(() => assert.fail('nothing should run'));
    const r = await runCli(['teardown', '--yes'], {
      env: { CACHE_DIR: tmpDir('fwi-cache-'), PATH: tmpDir('fwi-empty-') },
      runner: fake.runner,
    });
    assert.equal(r.code, 0, r.err);
  });
});
