import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DryRunCluster } from '../tasks/lib/dry-run.ts';
import { AbortError, CommandError } from '../tasks/lib/errors.ts';
import { RunLog } from '../tasks/lib/log.ts';
import { Shell } from '../tasks/lib/shell.ts';
import { fakeSpawn, tmpDir } from './helpers.ts';

const config = {
  context: 'ctx-a',
  istioctl: '/opt/istio 1/bin/istioctl',
  kubeconfig: undefined,
  cluster: { kind: 'minikube' as const, profile: 'prof', driver: 'docker', memoryMiB: 8192, cpus: 4, version: 'v1.39.0' },
};

function shell(o: Partial<ConstructorParameters<typeof Shell>[0]> = {}) {
  const logFile = path.join(tmpDir(), 'run.log');
  const printed: string[] = [];
  const sh = new Shell({ config, log: new RunLog(logFile), print: (l) => printed.push(l), ...o });
  return { sh, printed, logFile };
}

describe('shell', () => {
  it('asks a read-only question once until another command runs, even one still in flight', async () => {
    let n = 0;
    const fake = fakeSpawn(() => ({ stdout: String(++n) }));
    const { sh, logFile } = shell({ spawn: fake.spawn });
    const ask = () => sh.kubectl(['get', 'namespace', 'a', '-o', 'json'], { read: true });
    assert.deepEqual([(await ask()).stdout, (await ask()).stdout], ['1', '1']);
    assert.match(readFileSync(logFile, 'utf8'), /# asked before, same answer: kubectl --context ctx-a get namespace a -o json/);
    await sh.kubectl(['wait', 'deployment', 'b', '--for=condition=Available']); // a wait, too, may see change
    assert.equal((await ask()).stdout, '3');
    // A change while the question is in flight: its answer may predate the change, so it is not reused.
    const inFlight = sh.kubectl(['get', 'namespace', 'b', '-o', 'json'], { read: true });
    await Promise.all([inFlight, sh.kubectl(['label', 'namespace', 'b', 'x=y'])]);
    assert.equal((await sh.kubectl(['get', 'namespace', 'b', '-o', 'json'], { read: true })).stdout, '6');
    assert.equal(fake.calls.length, 6);
  });

  it('a read issued while a change runs is asked again once it ends; one from before it is not reused during it', async () => {
    let n = 0;
    const fake = fakeSpawn(() => ({ stdout: String(++n) }));
    const { sh } = shell({ spawn: fake.spawn });
    const ask = async () => (await sh.kubectl(['get', 'namespace', 'a', '-o', 'json'], { read: true })).stdout;
    assert.equal(await ask(), '1');
    // A change starts: the answer from before it may be stale as soon as it runs.
    const change = sh.kubectl(['label', 'namespace', 'a', 'x=y']);
    const during = await ask();
    assert.notEqual(during, '1', 'an answer from before the change was reused while it ran');
    await change;
    // The read asked while the change ran may have seen the old state: after the change it is asked again.
    const after = await ask();
    assert.notEqual(after, during, 'an answer from during the change was reused after it ended');
    assert.equal(fake.calls.length, 4);
  });

  it('never reuses a failed answer', async () => {
    let n = 0;
    const fake = fakeSpawn(() => (++n === 1 ? { code: 1, stderr: 'error: the server is currently unable' } : { stdout: 'ok' }));
    const { sh } = shell({ spawn: fake.spawn });
    const ask = () => sh.kubectl(['get', 'nodes'], { read: true });
    await assert.rejects(ask());
    assert.equal((await ask()).stdout, 'ok');
  });

  it('pins the context on kubectl and istioctl and the profile on minikube', async () => {
    const fake = fakeSpawn();
    const { sh } = shell({ spawn: fake.spawn });
    await sh.kubectl(['get', 'pods']);
    await sh.istioctl(['version']);
    await sh.minikube(['status']);
    assert.deepEqual(
      fake.calls.map((c) => c.argv),
      [
        ['kubectl', '--context', 'ctx-a', 'get', 'pods'],
        ['/opt/istio 1/bin/istioctl', '--context', 'ctx-a', 'version'],
        ['minikube', '-p', 'prof', 'status'],
      ],
    );
  });

  it('in dry-run prints shell-quoted commands, runs nothing and answers as told', async () => {
    const fake = fakeSpawn(() => assert.fail('dry-run must not spawn'));
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    const { sh, printed } = shell({ spawn: fake.spawn, dryRun: model });
    const r = await sh.kubectl(['get', 'x', '-o', 'jsonpath={.a}']);
    await sh.kubectl(['apply', '-f', '-'], { input: 'secret-data', inputLabel: 'Secret/cacerts' });
    assert.equal(r.stdout, '', 'a fresh cluster has nothing');
    assert.deepEqual(printed, [
      "$ kubectl --context ctx-a get x -o 'jsonpath={.a}'",
      '$ kubectl --context ctx-a apply -f - # stdin: Secret/cacerts',
    ]);
    assert.equal(fake.calls.length, 0);
  });

  it('feeds stdin, logs command, output and exit code, but never the stdin bytes', async () => {
    const fake = fakeSpawn((_argv, input) => ({ stdout: `got ${input.length} bytes\n` }));
    const { sh, logFile } = shell({ spawn: fake.spawn });
    const r = await sh.kubectl(['create', '-f', '-'], { input: 'TOP-SECRET-KEY', inputLabel: 'Secret/cacerts' });
    assert.equal(fake.calls[0].input, 'TOP-SECRET-KEY');
    assert.equal(r.stdout, 'got 14 bytes\n');
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /\$ kubectl --context ctx-a create -f - # stdin: Secret\/cacerts/);
    assert.match(log, /\| got 14 bytes/);
    assert.match(log, /> exit 0/);
    assert.doesNotMatch(log, /TOP-SECRET-KEY/);
  });

  it('turns a non-zero exit into one line naming the tool and its last stderr line', async () => {
    const fake = fakeSpawn(() => ({ code: 1, stderr: 'some noise\nError from server (Forbidden): nope\n' }));
    const { sh } = shell({ spawn: fake.spawn });
    await assert.rejects(sh.kubectl(['get', 'x']), (e: unknown) => {
      assert.ok(e instanceof CommandError, 'a CommandError');
      assert.equal(e.message, 'kubectl exited with 1: Error from server (Forbidden): nope');
      return true;
    });
    const r = await sh.kubectl(['get', 'x'], { allowFailure: true });
    assert.equal(r.exitCode, 1);
  });

  it('says a tool is missing when the shell cannot find it', async () => {
    const { sh } = shell({ env: { PATH: '/nonexistent' } });
    await assert.rejects(sh.run('no-such-tool-xyz', []), /no-such-tool-xyz is not installed/);
  });

  it('streams output lines to onLine', async () => {
    const fake = fakeSpawn(() => ({ stdout: 'one\ntwo\nthree' }));
    const { sh } = shell({ spawn: fake.spawn });
    const lines: string[] = [];
    await sh.kubectl(['x'], { onLine: (l) => lines.push(l) });
    assert.deepEqual(lines, ['one', 'two', 'three']);
  });

  it('stops a command at its timeout', async () => {
    const { sh } = shell();
    await assert.rejects(sh.run('sleep', ['30'], { timeoutMs: 200 }), /sleep timed out after 0.2s/);
  });

  it('on abort kills the whole process group and leaves no orphan', async () => {
    const ac = new AbortController();
    const { sh } = shell({ signal: ac.signal });
    let grandchild = 0;
    const running = sh.run('bash', ['-c', 'sleep 300 & echo $!; wait'], {
      onLine: (l) => {
        grandchild = Number(l);
        ac.abort();
      },
    });
    await assert.rejects(running, AbortError);
    assert.ok(grandchild > 0, 'the grandchild printed its pid');
    const alive = () => {
      try {
        process.kill(grandchild, 0);
        return true;
      } catch {
        return false;
      }
    };
    // The kill is sent at once (process.kill on the group); on a busy machine the process takes a moment to die, and
    // a zombie is reaped by init shortly after. Poll for that, bounded; never wait a fixed time.
    const state = () => {
      try {
        return alive() ? readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(' ')[2] : 'gone';
      } catch {
        return 'gone';
      }
    };
    for (const deadline = Date.now() + 5000; Date.now() < deadline && !['gone', 'Z'].includes(state()); )
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(['gone', 'Z'].includes(state()), `grandchild ${grandchild} still running (${state()})`);
  });
});

describe('dry-run lines', () => {
  it('quote for any POSIX shell, not only bash', async () => {
    const { shellQuote } = await import('../tasks/lib/shell.ts');
    const { spawnSync } = await import('node:child_process');
    const words = [
      'plain',
      'two words',
      "it's",
      'jsonpath={.data.root-cert\\.pem}',
      '',
      '--for=jsonpath={.webhooks[0]}',
      '$HOME',
    ];
    const line = words.map(shellQuote).join(' ');
    assert.doesNotMatch(line, /\$'/);
    // dash is the POSIX shell that knows no $'...': it must read back the very words.
    const r = spawnSync('sh', ['-c', `printf '[%s]\\n' ${line}`], { encoding: 'utf8' });
    assert.deepEqual(
      r.stdout.split('\n').slice(0, -1),
      words.map((w) => `[${w}]`),
    );
  });
});
