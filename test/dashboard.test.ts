// npm run dashboard: the URL of a real port-forward process (a kubectl stand-in that prints what kubectl prints and
// then holds the port), and Ctrl-C that ends the command with exit 0 and leaves no process behind.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fakeRunner, runCli, spawnCli, tmpDir } from './helpers.ts';

/** A kubectl that answers a reachable cluster's version, and port-forward as kubectl does (its pid written, held until killed). */
function kubectlStub(): { bin: string; pidFile: string } {
  const bin = tmpDir('fwi-stub-');
  const pidFile = path.join(bin, 'port-forward.pid');
  writeFileSync(
    path.join(bin, 'kubectl'),
    `#!/bin/sh
case "$*" in *" version "*) echo '{"serverVersion":{"gitVersion":"v1.36.3"}}'; exit 0;; esac
echo $$ > ${pidFile}
echo "Forwarding from 127.0.0.1:41234 -> 3000"
exec sleep 600
`,
  );
  chmodSync(path.join(bin, 'kubectl'), 0o755);
  return { bin, pidFile };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('dashboard', () => {
  it('prints the forwarded URL, and Ctrl-C ends it with exit 0 and no kubectl left running', async () => {
    const { bin, pidFile } = kubectlStub();
    const p = spawnCli(['dashboard', 'grafana'], bin);
    let out = '';
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((resolve) => p.on('close', resolve));
    const url = new Promise<string>((resolve) =>
      p.stdout.on('data', (d) => {
        out += d;
        const m = /Grafana: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      }),
    );
    // A dashboard that ends before its URL fails here, not by leaving the test waiting.
    const ended = closed.then((code) => assert.fail(`dashboard ended (exit ${code}) before it printed the URL: ${err}`));
    assert.equal(await Promise.race([url, ended]), 'http://127.0.0.1:41234/');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(pid), 'kubectl port-forward runs while the dashboard is open');
    p.kill('SIGINT');
    assert.equal(await closed, 0);
    assert.equal(alive(pid), false, 'Ctrl-C stopped kubectl port-forward');
  });

  it('an unknown addon is a usage error naming the known ones', async () => {
    const r = await runCli(['dashboard', 'graphana']);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      "error: unknown addon 'graphana' (did you mean grafana?); known: prometheus, grafana, zipkin, jaeger, kiali\n",
    );
  });

  it('--dry-run prints the exact commands: the cluster asked first, then the port-forward', async () => {
    const r = await runCli(['dashboard', 'kiali', '--dry-run']);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      '$ kubectl --context fun-with-istio version -o json --request-timeout=20s\n' +
        '$ kubectl --context fun-with-istio -n istio-system port-forward service/kiali :20001 --address 127.0.0.1\n',
    );
  });

  it('with no cluster: the reason and what to run, before any port-forward', async () => {
    const fake = fakeRunner(() => ({ code: 1, stderr: 'error: context "fun-with-istio" does not exist\n' }));
    const r = await runCli(['dashboard', 'grafana'], { runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: context fun-with-istio is not reachable: error: context "fun-with-istio" does not exist /);
    assert.match(r.err, /\n {2}suggestion: run `npm run minikube` first\n$/);
    assert.equal(fake.calls.length, 1, 'only the cluster was asked');
  });
});

describe('how to open the addons', () => {
  it('NodePort URLs where the node is reachable, npm run dashboard where it is not (docker driver on macOS)', async () => {
    const { addonLinks, nodeReachable } = await import('../tasks/lib/istio/addon-links.ts');
    const { addons } = await import('../tasks/config.ts');
    const three = addons.filter((a) => ['prometheus', 'grafana', 'zipkin'].includes(a.name));
    const docker = { kind: 'minikube', profile: 'p', driver: 'docker', memoryMiB: 8192, cpus: 4, version: 'v1.39.0' } as const;
    assert.equal(nodeReachable(docker, 'linux'), true);
    assert.equal(nodeReachable(docker, 'darwin'), false);
    assert.equal(nodeReachable({ ...docker, driver: 'kvm2' }, 'darwin'), true);
    assert.deepEqual(
      addonLinks(three, { reachable: true, address: '192.168.49.2', nodePorts: { grafana: '31000', zipkin: '31001' } }),
      [
        'prometheus: npm run dashboard -- prometheus',
        'grafana: http://192.168.49.2:31000/',
        'zipkin: http://192.168.49.2:31001/zipkin/',
      ],
    );
    assert.deepEqual(addonLinks(three, { reachable: false, nodePorts: {} }), [
      'prometheus: npm run dashboard -- prometheus',
      'grafana: npm run dashboard -- grafana',
      'zipkin: npm run dashboard -- zipkin',
    ]);
  });
});
