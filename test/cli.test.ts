// The CLI as users run it: exit codes, --help everywhere, check, a bad .env, versions, in-process through the one
// runner; and, as real processes, what only a process can show: the scripts start, stdin is read, Ctrl-C.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import { processes } from '../tasks/lib/exec/processes.ts';
import { runCli, tmpDir } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const nodeDir = path.dirname(process.execPath);
const baseEnv = (extra: Record<string, string> = {}) => ({
  HOME: tmpDir('fwi-home-'),
  PATH: `${nodeDir}:/usr/bin:/bin`,
  ...extra,
});

/** The CLI as a process: `node --import tsx <args>`, as npm starts it. */
function cliProcess(args: string[], o: { env?: Record<string, string>; input?: string } = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: o.env ?? baseEnv(),
    encoding: 'utf8',
    input: o.input,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const chapterFiles = readdirSync(path.join(root, 'tasks')).filter((f) => f.endsWith('.ts') && f !== 'config.ts');

describe('cli', () => {
  it('every command answers --help with exit 0, and only the options that apply', async () => {
    for (const command of commands) {
      const r = await runCli([command.name, '--help']);
      assert.equal(r.code, 0, `${command.name}: ${r.err}`);
      assert.match(r.out, new RegExp(`^${command.name}\\b`), command.name);
      // check runs no external program: no --dry-run to offer (issue 9: only the options that apply).
      if (command.name === 'check') assert.doesNotMatch(r.out, /--dry-run|MINIKUBE_/);
      else assert.match(r.out, /--dry-run/, command.name);
    }
    const usage = await runCli(['--help']);
    assert.equal(usage.code, 0);
    assert.match(usage.out, /^Usage:\n {2}npm run <command>/m);
  });

  it('each chapter script runs its own command when started directly', () => {
    const names = new Set(commands.map((c) => c.name));
    for (const file of chapterFiles) {
      const source = readFileSync(path.join(root, 'tasks', file), 'utf8');
      const started = /^runIfMain\(import\.meta\.url, (\w+)\);$/m.exec(source);
      assert.ok(started, `tasks/${file} does not end with runIfMain(import.meta.url, <its command>)`);
      const exported = new RegExp(`export const ${started[1]}: \\w+ = \\{\\n\\s+kind: '\\w+',\\n\\s+name: '([\\w-]+)'`).exec(
        source,
      );
      assert.ok(exported, `tasks/${file}: ${started[1]} is not a command declared there`);
      assert.equal(exported[1], path.basename(file, '.ts'), `tasks/${file} starts the command ${exported[1]}`);
      assert.ok(names.has(exported[1]), `${exported[1]} is not in the Taskfile's commands`);
    }
  });

  it('as processes: the Taskfile and a chapter script start, answer --help and exit 0', async () => {
    const runs = ['Taskfile.ts', 'tasks/mtls.ts'].map(
      (script) =>
        new Promise<[string, number | null, string]>((resolve) => {
          const p = spawn(process.execPath, ['--import', 'tsx', script, '--help'], { cwd: root, env: baseEnv() });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.on('close', (code) => resolve([script, code, out]));
        }),
    );
    const [[, taskfileCode, taskfileOut], [, chapterCode, chapterOut]] = await Promise.all(runs);
    assert.equal(taskfileCode, 0);
    assert.match(taskfileOut, /^Usage:\n {2}npm run <command>/m);
    assert.equal(chapterCode, 0);
    assert.match(chapterOut, /^mtls\b/);
  });

  it('--dry-run runs with no minikube, kubectl or istioctl installed', async () => {
    // The default stand-in answers every command with a failure: a dry run that ran one would not exit 0.
    const r = await runCli(['all', '--dry-run'], { env: { PATH: nodeDir } });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\$ minikube -p fun-with-istio start /m);
  });

  it('check: exit 0 on good manifests, 1 with findings, 2 without files', async () => {
    const good = await runCli(['check', 'manifests/', 'test/fixtures/lint/good.yaml']);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /2 file\(s\): 0 error\(s\), 0 warning\(s\)/);
    // Istio's IST0118 is information (it sniffs the protocol): check reports it and exits 0, or 1 with --strict.
    const bad = await runCli(['check', 'test/fixtures/lint/bad.yaml']);
    assert.equal(bad.code, 0);
    assert.match(bad.out, /bad.yaml: Service\/api: info: port 8080 has name 'http2foo'/);
    assert.match(bad.out, /1 file\(s\): 0 error\(s\), 2 warning\(s\), 4 info\n$/);
    assert.equal((await runCli(['check', '--strict', 'test/fixtures/lint/bad.yaml'])).code, 1);
    const empty = await runCli(['check', tmpDir('fwi-empty-')]);
    assert.equal(empty.code, 2);
    assert.match(empty.err, /^error: no \.yaml or \.yml files in /);
    const none = await runCli(['check']);
    assert.equal(none.code, 2);
    assert.equal(none.err, 'error: check needs at least one FILE, DIR or - (npm run check -- manifests/)\n');
    const missing = await runCli(['check', 'nope.yaml']);
    assert.equal(missing.code, 2);
    assert.equal(missing.err, 'error: no such file or directory: nope.yaml\n');
  });

  it('as a process: check - reads the manifest from stdin', () => {
    const stdin = cliProcess(['Taskfile.ts', 'check', '-'], {
      input: readFileSync(path.join(root, 'test/fixtures/lint/bad.yaml'), 'utf8'),
    });
    assert.equal(stdin.code, 0, stdin.err);
    assert.match(stdin.out, /^<stdin>: Service\/api: info: port 8080/m);
  });

  it('a malformed .env is a one-line error, exit 2, no stack trace', async () => {
    const envFile = path.join(tmpDir('fwi-env-'), '.env');
    writeFileSync(envFile, 'MINIKUBE_MEMORY 8192\n');
    const r = await runCli(['minikube'], { envFile });
    assert.equal(r.code, 2);
    assert.equal(r.err, 'error: .env line 1 is not KEY=VALUE: "MINIKUBE_MEMORY 8192"\n');
  });

  it('versions reports what is missing and exits 1', async () => {
    const r = await runCli(['versions'], { env: { PATH: nodeDir, CACHE_DIR: tmpDir('fwi-cache-') }, runner: processes });
    assert.equal(r.code, 1);
    assert.match(r.out, /^minikube\s+v1\.39\.0\s+not installed\s+<- needs attention$/m);
    assert.match(r.out, /^Istio \(istioctl\)\s+1\.31\.1\s+not downloaded yet/m);
    assert.match(r.out, /listed here once the release is downloaded \(install-istio\)/, 'says where the image list is');
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
