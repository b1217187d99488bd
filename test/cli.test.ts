// The CLI as users run it: real processes, exit codes, --help everywhere, Ctrl-C.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const nodeDir = path.dirname(process.execPath);
const baseEnv = (extra: Record<string, string> = {}) => ({
  HOME: tmpDir('fwi-home-'),
  PATH: `${nodeDir}:/usr/bin:/bin`,
  ...extra,
});

function cli(args: string[], env = baseEnv()) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli', () => {
  const chapters = readdirSync(path.join(root, 'tasks')).filter((f) => f.endsWith('.ts') && f !== 'config.ts');

  it('every entry point answers --help with exit 0', async () => {
    const runs = ['Taskfile.ts', ...chapters.map((f) => `tasks/${f}`)].map(
      (script) =>
        new Promise<[string, number | null, string]>((resolve) => {
          const p = spawn(process.execPath, ['--import', 'tsx', script, '--help'], { cwd: root, env: baseEnv() });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.on('close', (code) => resolve([script, code, out]));
        }),
    );
    for (const [script, code, out] of await Promise.all(runs)) {
      assert.equal(code, 0, script);
      assert.match(
        out,
        script === 'Taskfile.ts' ? /^Usage:\n {2}npm run <command>/m : new RegExp(`^${path.basename(script, '.ts')}\\b`),
        script,
      );
      // check runs no external program: no --dry-run to offer (issue 9: only the options that apply).
      if (script === 'tasks/check.ts') assert.doesNotMatch(out, /--dry-run|MINIKUBE_/);
      else assert.match(out, /--dry-run/);
    }
  });

  it('--dry-run runs with no minikube, kubectl or istioctl installed', () => {
    const r = cli(['Taskfile.ts', 'all', '--dry-run'], baseEnv({ PATH: nodeDir }));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\$ minikube -p fun-with-istio start /m);
  });

  it('check: exit 0 on good manifests, 1 with findings, 2 without files', () => {
    const good = cli(['tasks/check.ts', 'manifests/', 'test/fixtures/lint/good.yaml']);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /2 file\(s\): 0 error\(s\), 0 warning\(s\)/);
    // Istio's IST0118 is information (it sniffs the protocol): check reports it and exits 0, or 1 with --strict.
    const bad = cli(['Taskfile.ts', 'check', 'test/fixtures/lint/bad.yaml']);
    assert.equal(bad.code, 0);
    assert.match(bad.out, /bad.yaml: Service\/api: info: port 8080 has name 'http2foo'/);
    assert.match(bad.out, /1 file\(s\): 0 error\(s\), 2 warning\(s\), 4 info\n$/);
    assert.equal(cli(['Taskfile.ts', 'check', '--strict', 'test/fixtures/lint/bad.yaml']).code, 1);
    const stdin = spawnSync(process.execPath, ['--import', 'tsx', 'Taskfile.ts', 'check', '-'], {
      cwd: root,
      env: baseEnv(),
      encoding: 'utf8',
      input: readFileSync(path.join(root, 'test/fixtures/lint/bad.yaml'), 'utf8'),
    });
    assert.match(stdin.stdout, /^<stdin>: Service\/api: info: port 8080/m);
    const empty = cli(['Taskfile.ts', 'check', tmpDir('fwi-empty-')]);
    assert.equal(empty.code, 2);
    assert.match(empty.err, /^error: no \.yaml or \.yml files in /);
    const none = cli(['Taskfile.ts', 'check']);
    assert.equal(none.code, 2);
    assert.equal(none.err, 'error: check needs at least one FILE, DIR or - (npm run check -- manifests/)\n');
    const missing = cli(['Taskfile.ts', 'check', 'nope.yaml']);
    assert.equal(missing.code, 2);
    assert.equal(missing.err, 'error: no such file or directory: nope.yaml\n');
  });

  it('a malformed .env is a one-line error, exit 2, no stack trace', () => {
    const dir = tmpDir('fwi-env-');
    writeFileSync(path.join(dir, '.env'), 'MINIKUBE_MEMORY 8192\n');
    // The .env is read from the project root; point a copy of the runner at it through a tiny wrapper.
    const wrapper = path.join(dir, 'run.mts');
    writeFileSync(
      wrapper,
      `import { main } from ${JSON.stringify(path.join(root, 'Taskfile.ts'))};\nawait main(['minikube'], { envFile: ${JSON.stringify(path.join(dir, '.env'))} });\n`,
    );
    const r = cli([wrapper]);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'error: .env line 1 is not KEY=VALUE: "MINIKUBE_MEMORY 8192"\n');
  });

  it('versions reports what is missing and exits 1', () => {
    const r = cli(['Taskfile.ts', 'versions'], baseEnv({ PATH: nodeDir }));
    assert.equal(r.code, 1);
    assert.match(r.out, /^minikube\s+v1\.39\.0\s+not installed\s+<- needs attention$/m);
    assert.match(r.out, /^Istio \(istioctl\)\s+1\.31\.1\s+not downloaded yet/m);
  });

  it('Ctrl-C stops the running command and its children, exits 130, and says how to resume', async () => {
    const bin = tmpDir('fwi-bin-');
    const pids = path.join(bin, 'pids');
    // A minikube that never finishes and has a child of its own.
    writeFileSync(
      path.join(bin, 'minikube'),
      `#!/bin/bash\ncase "$3" in\n start) sleep 300 & echo "$$ $!" > ${pids}; wait;;\n version) echo '{"minikubeVersion":"v1.39.0"}';;\n *) echo '{"Host":"Stopped"}'; exit 7;;\nesac\n`,
    );
    writeFileSync(path.join(bin, 'kubectl'), '#!/bin/sh\necho \'{"clientVersion":{"gitVersion":"v1.36.3"}}\'\n');
    writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\n');
    for (const f of ['minikube', 'kubectl', 'docker']) chmodSync(path.join(bin, f), 0o755);
    const p = spawn(process.execPath, ['--import', 'tsx', 'Taskfile.ts', 'minikube'], {
      cwd: root,
      env: baseEnv({ PATH: `${bin}:${nodeDir}:/usr/bin:/bin` }),
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
    for (let i = 0; i < 3000 && !existsSync(pids); i++) await new Promise((r) => setTimeout(r, 10)); // bounded poll for the file
    assert.ok(existsSync(pids), `minikube start never ran: ${err}`);
    p.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.match(err, /interrupted: child processes stopped; re-run to resume \(log: .*\)/);
    for (const pid of readFileSync(pids, 'utf8').trim().split(' ').map(Number)) {
      let alive = true;
      for (let i = 0; i < 200 && alive; i++) {
        try {
          process.kill(pid, 0);
          alive = !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
          if (alive) await new Promise((r) => setTimeout(r, 5));
        } catch {
          alive = false;
        }
      }
      assert.ok(!alive, `process ${pid} outlived Ctrl-C`);
    }
  });
});
