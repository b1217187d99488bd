// What a killed run leaves running: each command leads a process group of its own, so a SIGKILL of the tool leaves
// them; the next run stops them, and never a process that only has the same pid. Real processes (sleep), no cluster:
// the product runs against a fake kubectl that hangs.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RunningCommands, startOf, stopLeftovers } from '../tasks/lib/exec/leftovers.ts';
import { tmpDir } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) if (c.pid && startOf(c.pid)) process.kill(-c.pid, 'SIGKILL');
});

/** A `sleep` leading a process group of its own, as the shell starts every command. */
function sleeper(): number {
  const c = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  started.push(c);
  return c.pid as number;
}
const isRunning = (pid: number) => startOf(pid) !== undefined && !/^Z/.test(stateOf(pid));
const stateOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2);
};

/** Polls `ok` every 20 ms until it holds or 15 s pass. */
async function until(ok: () => boolean): Promise<boolean> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await delay(20)) if (ok()) return true;
  return ok();
}

describe('the commands a run has started, on disk', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, () => {
  it('each is kept while it runs, and the record goes with the last one', () => {
    const dir = tmpDir('fwi-running-');
    const running = new RunningCommands(dir);
    const pid = sleeper();
    running.started(pid, 'kubectl --context lab port-forward service/grafana :3000');
    const record = JSON.parse(readFileSync(path.join(dir, `${process.pid}.json`), 'utf8'));
    assert.deepEqual(record.children, [
      { pid, start: startOf(pid), line: 'kubectl --context lab port-forward service/grafana :3000' },
    ]);
    assert.equal(record.owner.pid, process.pid);
    running.ended(pid);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a run no longer alive: its commands still running are stopped, group and all, and named', () => {
    const dir = tmpDir('fwi-running-');
    const pid = sleeper();
    const gone = { pid: 999_999_999, start: '1' };
    writeFileSync(
      path.join(dir, '999999999.json'),
      JSON.stringify({ owner: gone, children: [{ pid, start: startOf(pid), line: 'kubectl port-forward x' }] }),
    );
    const killed: [number, string][] = [];
    assert.deepEqual(
      stopLeftovers(dir, (p, s) => void killed.push([p, s])),
      ['kubectl port-forward x'],
    );
    assert.deepEqual(killed, [[-pid, 'SIGKILL']]);
    assert.deepEqual(readdirSync(dir), [], 'forgotten');
  });

  it('a run going on beside this one keeps its commands', () => {
    const dir = tmpDir('fwi-running-');
    const pid = sleeper();
    const me = { pid: process.pid, start: startOf(process.pid) };
    writeFileSync(
      path.join(dir, `${process.pid}.json`),
      JSON.stringify({ owner: me, children: [{ pid, start: startOf(pid), line: 'x' }] }),
    );
    assert.deepEqual(
      stopLeftovers(dir, () => assert.fail('nothing is stopped')),
      [],
    );
    assert.deepEqual(readdirSync(dir), [`${process.pid}.json`]);
  });

  it('a process with the pid of a recorded one but another start time is not touched; nor is a record cut short', () => {
    const dir = tmpDir('fwi-running-');
    const pid = sleeper();
    const later = String(Number(startOf(pid)) + 1);
    writeFileSync(
      path.join(dir, '999999999.json'),
      JSON.stringify({ owner: { pid: 999_999_999, start: '1' }, children: [{ pid, start: later, line: 'x' }] }),
    );
    writeFileSync(path.join(dir, '999999998.json'), '{"owner":');
    assert.deepEqual(
      stopLeftovers(dir, () => assert.fail('nothing is stopped')),
      [],
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it("what cannot be read or removed there (a folder by a record's name) is passed over: the run goes on", () => {
    const dir = tmpDir('fwi-running-');
    mkdirSync(path.join(dir, '999999997.json'));
    mkdirSync(path.join(dir, '999999996.json.tmp'));
    assert.deepEqual(
      stopLeftovers(dir, () => assert.fail('nothing is stopped')),
      [],
    );
  });
});

describe('the product killed while a command runs', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, () => {
  /** A kubectl that hangs (writes its pid first), and a cache of its own. */
  function world() {
    const dir = tmpDir('fwi-killed-');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'kubectl'), `#!/bin/sh\necho $$ > ${dir}/kubectl.pid\nexec sleep 60\n`);
    chmodSync(path.join(bin, 'kubectl'), 0o755);
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: dir,
      CACHE_DIR: path.join(dir, 'cache'),
      CLUSTER: 'existing',
      KUBE_CONTEXT: 'nowhere',
      KUBECONFIG: path.join(dir, 'kubeconfig'),
    };
    writeFileSync(env.KUBECONFIG, '');
    const kubectlPid = () => Number(readFileSync(path.join(dir, 'kubectl.pid'), 'utf8'));
    return { dir, env, kubectlPid };
  }
  const product = (env: Record<string, string>, args: string[]) => {
    const child = spawn(process.execPath, ['tasks/lib/cli/start.mjs', ...args], { cwd: root, env, detached: true });
    started.push(child);
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, out })),
    );
    return { child, done };
  };

  it('SIGKILL leaves the hanging kubectl running; the next run stops it and says so', async () => {
    const w = world();
    const first = product(w.env, ['all', '--yes']);
    assert.ok(await until(() => existsSync(path.join(w.dir, 'kubectl.pid'))), 'kubectl started');
    const kubectl = w.kubectlPid();
    assert.ok(await until(() => readdirSync(path.join(w.env.CACHE_DIR, 'running')).length === 1), 'it is on disk');
    process.kill(-(first.child.pid as number), 'SIGKILL');
    assert.equal((await first.done).signal, 'SIGKILL');
    assert.ok(isRunning(kubectl), 'its own process group: the kill did not reach it');

    const next = product({ ...w.env, PATH: process.env.PATH ?? '' }, ['all', '--yes']);
    const r = await next.done;
    assert.match(r.out, /^note: stopped 1 command\(s\) a killed run left running \(kubectl\)$/m);
    assert.ok(await until(() => !isRunning(kubectl)), 'stopped by the next run');
    const logs = readdirSync(path.join(w.env.CACHE_DIR, 'logs')).sort();
    const log = readFileSync(path.join(w.env.CACHE_DIR, 'logs', logs.at(-1) as string), 'utf8');
    assert.match(log, /^# stopped, left running by a run that was killed: kubectl --context nowhere version --client -o json$/m);
    assert.match(log, /^# the run before this one \(log: .*-all\.log\) has no outcome/m);
  });

  it('SIGHUP (the terminal closed) stops the run and its commands, as Ctrl-C does', async () => {
    const w = world();
    const run = product(w.env, ['all', '--yes']);
    assert.ok(await until(() => existsSync(path.join(w.dir, 'kubectl.pid'))), 'kubectl started');
    const kubectl = w.kubectlPid();
    process.kill(run.child.pid as number, 'SIGHUP');
    const r = await run.done;
    assert.equal(r.code, 130, r.out);
    assert.ok(await until(() => !isRunning(kubectl)), 'its command stopped');
    assert.deepEqual(readdirSync(path.join(w.env.CACHE_DIR, 'running')), [], 'nothing left on disk');
  });
});
