// What a user sees on a terminal when a run fails or has nothing to do, through listr2's own renderers: the simple
// renderer (stdout not a TTY) line by line, and the default renderer on a pseudo-terminal (script(1)).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { cacheWithCa, tmpDir } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const release = path.join(root, 'test', 'fixtures', 'release');
const dockerDown = readFileSync(path.join(root, 'test', 'fixtures', 'stderr', 'minikube-docker-not-running.txt'), 'utf8');

/** Stand-ins for minikube, kubectl and docker on PATH. `blockStatus`: minikube status waits until it is killed. */
function stubs(o: { blockStatus?: boolean } = {}): string {
  const bin = tmpDir('fwi-stubs-');
  const errFile = path.join(bin, 'docker-down.txt');
  writeFileSync(errFile, dockerDown);
  const script = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  script(
    'minikube',
    `case "$*" in
  *"version --output=json"*) echo '{"minikubeVersion":"v1.39.0"}';;
  *status*) ${o.blockStatus ? 'while :; do sleep 0.05; done' : 'exit 85'};;
  *start*) [ -n "$START_OK" ] && { echo 'Preparing Kubernetes v1.36.3 on Docker 28.2'; exit 0; }; cat ${errFile} >&2; exit 63;;
esac`,
  );
  script('kubectl', `echo '{"clientVersion":{"gitVersion":"v1.36.3"}}'`);
  script('docker', 'exit 0');
  return bin;
}

/** A fresh HOME, and a cache that already holds the CA `all` makes (its keys are not what these tests are about). */
const envFor = async (bin: string, extra: Record<string, string> = {}) => ({
  HOME: tmpDir('fwi-home-'),
  PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
  CACHE_DIR: await cacheWithCa(),
  ...extra,
});

/** stdout and stderr together, as a terminal shows them (simple renderer: stdout is a pipe). */
function piped(env: Record<string, string>): { code: number | null; lines: string[] } {
  const r = spawnSync('sh', ['-c', `"${process.execPath}" --import tsx Taskfile.ts all 2>&1`], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, lines: r.stdout.trimEnd().split('\n') };
}

describe('the terminal after a failure', () => {
  it('the error line (and its suggestion) is the last thing printed; a done-before step reads as done', async () => {
    const { code, lines } = piped(await envFor(stubs(), { ISTIO_HOME: release }));
    assert.equal(code, 1);
    assert.match(lines.at(-2) ?? '', /^error: Start minikube .*Exiting due to PROVIDER_DOCKER_NOT_RUNNING: .* \(log: .*\.log\)$/);
    assert.equal(lines.at(-1), '  suggestion: Start the Docker service');
    assert.ok(lines.includes(`✔ Get the Istio release (already done: using ISTIO_HOME=${release})`), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('⚠') || l.includes('[SKIPPED')), 'no warnings');
  });

  it('a step stopped because another failed is cancelled, not failed', async () => {
    const { code, lines } = piped(await envFor(stubs({ blockStatus: true }), { ISTIO_RELEASE_URL: 'http://127.0.0.1:9/none' }));
    assert.equal(code, 1);
    assert.match(
      lines.at(-1) ?? '',
      /^error: Get Istio 1\.31\.1 .*: cannot download http:\/\/127\.0\.0\.1:9\/none\/.*\(log: .*\)$/,
    );
    assert.ok(
      lines.includes('↓ Start minikube [SKIPPED: cancelled: Get Istio 1.31.1 (istio-1.31.1-linux-amd64.tar.gz) failed]'),
      lines.join('\n'),
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith('✖') && !/Get Istio|\(together\)|, then the Istio release/.test(l)),
      [],
      'only the failed step and the groups it is in are failed',
    );
    // A group whose steps were cancelled is drawn cancelled, not done.
    assert.deepEqual(
      lines.filter((l) => /^[✔↓✖] minikube( \[|$)/.test(l)),
      ['↓ minikube [SKIPPED: cancelled: Get Istio 1.31.1 (istio-1.31.1-linux-amd64.tar.gz) failed]'],
    );
    // The CA was there already, so minikube's later steps would have started next: they never did, so no line says so.
    assert.deepEqual(
      lines.filter((l) => /^❯ (Check the cluster is reachable|Verify the admissionregistration)/.test(l)),
      [],
      'steps that never started are not printed as started',
    );
  });

  it("a user's cluster is checked before anything is downloaded: a wrong context is the first error, never 'minikube'", async () => {
    const bin = stubs();
    writeFileSync(
      path.join(bin, 'kubectl'),
      `#!/bin/sh\ncase "$*" in *--client*) echo '{"clientVersion":{"gitVersion":"v1.36.3"}}';; *) echo 'error: context "nosuch" does not exist' >&2; exit 1;; esac\n`,
    );
    // Offline: the download would fail at once, if it started.
    const env = await envFor(bin, { ISTIO_RELEASE_URL: 'http://127.0.0.1:9/none', CLUSTER: 'existing', KUBE_CONTEXT: 'nosuch' });
    const { code, lines } = piped(env);
    assert.equal(code, 1);
    assert.match(
      lines.find((l) => l.startsWith('error: ')) ?? '',
      /^error: Check the cluster is reachable .*: cannot reach context nosuch: /,
    );
    assert.ok(
      lines.some((l) => l.startsWith('✖ the cluster (context nosuch) [FAILED: cannot reach context nosuch: ')),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /Get (the )?Istio/.test(l)), `nothing was downloaded:\n${lines.join('\n')}`);
    // The CA, which needs no cluster, started at once; it is cancelled, not done.
    assert.ok(
      lines.some((l) =>
        l.startsWith('↓ Generate a root CA and an intermediate CA (Istio tools/certs recipe) [SKIPPED: cancelled: '),
      ),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /minikube/.test(l)), lines.join('\n'));
  });

  it('on a terminal (default renderer), nothing is drawn after the error line', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('script(1) is not installed');
    const bin = stubs();
    const env = await envFor(bin, { ISTIO_HOME: release, TERM: 'xterm-256color' });
    const cmd = `stty cols 200 rows 60; "${process.execPath}" --import tsx Taskfile.ts all`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1, r.stdout);
    const screen = r.stdout;
    const after = screen.slice(screen.lastIndexOf('error: Start minikube'));
    // After the error line only its suggestion may follow: no task tree drawn again (escape codes aside).
    const text = stripVTControlCharacters(after).replace(/\r/g, '');
    assert.match(text, /^error: Start minikube [^\n]*\n {2}suggestion: Start the Docker service\s*$/);
  });
});

describe('--verbose', () => {
  it('shows each line of a command once (the progress line is not echoed again)', async () => {
    const env = await envFor(stubs(), { ISTIO_HOME: release, START_OK: '1' });
    const r = spawnSync('sh', ['-c', `"${process.execPath}" --import tsx Taskfile.ts minikube --verbose 2>&1`], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.match(r.stdout, /\$ minikube -p fun-with-istio start /);
    assert.equal(r.stdout.split('Preparing Kubernetes v1.36.3 on Docker 28.2').length - 1, 1, r.stdout);
  });
});
