import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AbortError, CommandError } from '../tasks/lib/base/errors.ts';
import { RunLog } from '../tasks/lib/base/log.ts';
import { Shell } from '../tasks/lib/exec/shell.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { fakeRunner, tmpDir } from './helpers.ts';

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
    const fake = fakeRunner(() => ({ stdout: String(++n) }));
    const { sh, logFile } = shell({ runner: fake.runner });
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
    const fake = fakeRunner(() => ({ stdout: String(++n) }));
    const { sh } = shell({ runner: fake.runner });
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
    const fake = fakeRunner(() => (++n === 1 ? { code: 1, stderr: 'error: the server is currently unable' } : { stdout: 'ok' }));
    const { sh } = shell({ runner: fake.runner });
    const ask = () => sh.kubectl(['get', 'nodes'], { read: true });
    await assert.rejects(ask());
    assert.equal((await ask()).stdout, 'ok');
  });

  it('a failed answer that arrives after a newer one was asked does not take the newer one with it', async () => {
    const stale = new AbortController();
    let n = 0;
    const fake = fakeRunner(() => (++n === 1 ? { hold: true } : { stdout: `answer ${n}` }));
    const { sh } = shell({ runner: fake.runner });
    const ask = () => sh.kubectl(['get', 'nodes'], { read: true });
    // Asked, then a change: the question still in flight is no longer the one to reuse.
    const first = sh.kubectl(['get', 'nodes'], { read: true, signal: stale.signal });
    await sh.kubectl(['label', 'nodes', 'a', 'x=y']);
    assert.equal((await ask()).stdout, 'answer 3');
    // The first question fails only now: the answer asked after the change stays.
    stale.abort();
    await assert.rejects(first);
    assert.equal((await ask()).stdout, 'answer 3');
    assert.equal(fake.calls.length, 3);
  });

  it('pins the context on kubectl and istioctl and the profile on minikube', async () => {
    const fake = fakeRunner();
    const { sh } = shell({ runner: fake.runner });
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
    const fake = fakeRunner(() => assert.fail('dry-run must not spawn'));
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    const { sh, printed } = shell({ runner: fake.runner, dryRun: model });
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
    const fake = fakeRunner((_argv, input) => ({ stdout: `got ${input.length} bytes\n` }));
    const { sh, logFile } = shell({ runner: fake.runner });
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
    const fake = fakeRunner(() => ({ code: 1, stderr: 'some noise\nError from server (Forbidden): nope\n' }));
    const { sh } = shell({ runner: fake.runner });
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
    const fake = fakeRunner(() => ({ stdout: 'one\ntwo\nthree' }));
    const { sh } = shell({ runner: fake.runner });
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
    const { shellQuote } = await import('../tasks/lib/exec/shell.ts');
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

describe('shell: environment, launch, killRunning, has, note, echo', () => {
  const sh0 = '/bin/sh';

  it('runs commands with the given environment, KUBECONFIG set from the config when there is one', async () => {
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin', FOO: 'bar', KUBECONFIG: '/user/kube' } });
    const show = async (s: Shell) => (await s.run(sh0, ['-c', 'echo "$KUBECONFIG|$FOO|$HOME"'])).stdout.trim();
    assert.equal(await show(sh), '/user/kube|bar|', 'the given environment, not this process one');
    const withConfig = new Shell({
      config: { ...config, kubeconfig: '/tool/kubeconfig' },
      log: new RunLog(undefined),
      env: { PATH: '/usr/bin:/bin', FOO: 'bar' },
    });
    assert.equal(await show(withConfig), '/tool/kubeconfig|bar|');
    const processEnv = new Shell({ config, log: new RunLog(undefined) });
    assert.equal(
      (await processEnv.run(sh0, ['-c', 'echo "$HOME"'])).stdout.trim(),
      process.env.HOME ?? '',
      "without one, this process's",
    );
  });

  it('prints dry-run lines to stdout and --verbose echoes to stderr when not told otherwise', async () => {
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    const written: string[] = [];
    const keep = { out: process.stdout.write, err: process.stderr.write };
    // Only the shell's lines are taken: the rest (the test runner's own report) goes through as before.
    const tap =
      (stream: 'out' | 'err', write: typeof process.stdout.write) =>
      (chunk: string | Uint8Array, ...rest: unknown[]) =>
        String(chunk).startsWith('$ kubectl')
          ? written.push(`${stream}:${chunk}`) > 0
          : (write as (...a: unknown[]) => boolean).call(stream === 'out' ? process.stdout : process.stderr, chunk, ...rest);
    process.stdout.write = tap('out', keep.out) as typeof process.stdout.write;
    process.stderr.write = tap('err', keep.err) as typeof process.stderr.write;
    try {
      await new Shell({ config, log: new RunLog(undefined), dryRun: model }).kubectl(['get', 'x']);
      const fake = fakeRunner(() => ({}));
      await new Shell({ config, log: new RunLog(undefined), echo: true, runner: fake.runner }).kubectl(['get', 'y']);
    } finally {
      process.stdout.write = keep.out;
      process.stderr.write = keep.err;
    }
    assert.deepEqual(written, ['out:$ kubectl --context ctx-a get x\n', 'err:$ kubectl --context ctx-a get y\n']);
  });

  it('names its context', () => {
    assert.equal(shell().sh.context, 'ctx-a');
  });

  it('minikube gets no profile with CLUSTER=existing (only profile-less commands are run there)', async () => {
    const fake = fakeRunner();
    const existing = { ...config, cluster: { kind: 'existing' as const } } as unknown as typeof config;
    const sh = new Shell({ config: existing, log: new RunLog(undefined), runner: fake.runner });
    await sh.minikube(['version']);
    assert.deepEqual(fake.calls[0].argv, ['minikube', 'version']);
  });

  it('launch starts a program it does not wait for, and logs it; one that cannot start is no failure', async () => {
    const dir = tmpDir();
    const marker = path.join(dir, 'started');
    const echoed: string[] = [];
    const { sh, logFile } = shell({ env: { PATH: '/usr/bin:/bin' }, echoTo: (l) => echoed.push(l) });
    // It reports its PATH, its process group and where its output goes, then says it is done.
    sh.launch(sh0, [
      '-c',
      `echo "$PATH $(ps -o pgid= $$) $(readlink /proc/$$/fd/1)" > ${marker}.tmp; mv ${marker}.tmp ${marker}`,
    ]);
    for (let i = 0; i < 500 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 10)); // bounded
    const [seenPath, group, output] = readFileSync(marker, 'utf8').trim().split(/\s+/);
    assert.equal(seenPath, '/usr/bin:/bin', 'started, with the shell environment');
    assert.notEqual(
      Number(group),
      Number(execFileSync('ps', ['-o', 'pgid=', String(process.pid)], { encoding: 'utf8' })),
      'in a process group of its own (Ctrl-C does not stop it)',
    );
    assert.equal(output, '/dev/null', 'its output goes nowhere');
    assert.deepEqual(echoed, [], 'nothing echoed without --verbose');
    assert.match(readFileSync(logFile, 'utf8'), /^\+\d+\.\d{3}s \$ \/bin\/sh -c 'echo "\$PATH .*' # launched, not waited for$/m);
    sh.launch('no-such-program-xyz', []);
  });

  it('launch in a dry run prints the command and starts nothing; with --verbose it echoes it', async () => {
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    const marker = path.join(tmpDir(), 'started');
    const { sh, printed } = shell({ dryRun: model });
    sh.launch('touch', [marker]);
    assert.deepEqual(printed, [`$ touch ${marker}`]);
    const echoed: string[] = [];
    const verbose = shell({ echo: true, echoTo: (l) => echoed.push(l), env: { PATH: '/usr/bin:/bin' } });
    verbose.sh.launch('true', []);
    assert.deepEqual(echoed, ['$ true']);
    assert.deepEqual(verbose.printed, [], 'a real launch prints no dry-run line');
    assert.ok(!existsSync(marker), 'the dry run started nothing');
  });

  it('each program is told to `running` as it starts, with its process group and command line, and as it ends', async () => {
    const told: string[] = [];
    const running = {
      started: (pid: number, line: string) => void told.push(`started ${pid > 0} ${line}`),
      ended: (pid: number) => void told.push(`ended ${pid > 0}`),
    };
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin' }, running });
    await sh.run('true', ['a b']);
    await assert.rejects(sh.run('false', []));
    assert.deepEqual(told, ["started true true 'a b'", 'ended true', 'started true false', 'ended true']);
  });

  it('killRunning kills every command still running (a second Ctrl-C), with its children, even ones that ignore SIGTERM', async () => {
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin' } });
    await sh.run('true', []); // ended: nothing of it is left to kill
    let grandchild = 0;
    // Both ignore SIGTERM (an ignored signal stays ignored across exec): only SIGKILL stops them.
    const running = sh.run(sh0, ['-c', 'trap "" TERM; sleep 300 & echo $!; wait'], {
      allowFailure: true,
      onLine: (l) => {
        grandchild = Number(l);
        sh.killRunning();
      },
    });
    const r = await running;
    assert.equal(r.exitCode, -1, 'killed by a signal');
    assert.ok(grandchild > 0, 'the child printed its pid');
    const gone = () => {
      try {
        process.kill(grandchild, 0);
        return readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(' ')[2] === 'Z';
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 500 && !gone(); i++) await new Promise((r) => setTimeout(r, 10)); // bounded
    assert.ok(gone(), `its child ${grandchild} outlived the kill`);
  });

  it('has: a program on the PATH the commands run with; a dry run assumes every tool', () => {
    assert.equal(shell({ env: { PATH: '/usr/bin:/bin' } }).sh.has('sh'), true);
    assert.equal(shell({ env: { PATH: '/nonexistent' } }).sh.has('sh'), false);
    assert.equal(shell({ env: {} }).sh.has('sh'), false, 'no PATH: nothing is found');
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    assert.equal(shell({ dryRun: model, env: { PATH: '/nonexistent' } }).sh.has('minikube'), true);
  });

  it('note: a remark in the log, and in the dry-run listing only in a dry run', () => {
    const real = shell();
    real.sh.note('Start minikube');
    assert.deepEqual(real.printed, []);
    assert.match(readFileSync(real.logFile, 'utf8'), /^# Start minikube$/m);
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    const dry = shell({ dryRun: model });
    dry.sh.note('Start minikube');
    assert.deepEqual(dry.printed, ['# Start minikube']);
  });

  it('a dry-run answer is complete: exit 0, and empty output where the model says nothing', async () => {
    const model = new DryRunCluster({
      kubernetesVersion: 'v1.36.3',
      istioVersion: '1.31.1',
      cluster: config.cluster,
      addons: [],
    });
    const r = await shell({ dryRun: model }).sh.run('helm', ['version']);
    assert.deepEqual(r, { exitCode: 0, stdout: '', stderr: '' });
  });

  it('--verbose echoes each command and its output once; output a step shows as progress is not echoed', async () => {
    const fake = fakeRunner(() => ({ stdout: 'out 1\nout 2\n', stderr: 'warn\n' }));
    const echoed: string[] = [];
    const { sh } = shell({ runner: fake.runner, echo: true, echoTo: (l) => echoed.push(l) });
    await sh.kubectl(['get', 'x']);
    assert.deepEqual(echoed.sort(), ['$ kubectl --context ctx-a get x', 'out 1\nout 2', 'warn'].sort());
    echoed.length = 0;
    await sh.kubectl(['rollout', 'status'], { onLine: () => {} });
    assert.deepEqual(echoed, ['$ kubectl --context ctx-a rollout status']);
    const quiet = shell({ runner: fake.runner, echoTo: (l) => echoed.push(l) });
    await quiet.sh.kubectl(['get', 'y']);
    assert.deepEqual(echoed, ['$ kubectl --context ctx-a rollout status'], 'without --verbose nothing is echoed');
  });

  it('logs stdout and stderr apart, and how the command ended', async () => {
    const fake = fakeRunner(() => ({ stdout: 'fine\n', stderr: 'careful\n', code: 3 }));
    const { sh, logFile } = shell({ runner: fake.runner });
    await sh.kubectl(['get', 'x'], { allowFailure: true });
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /^\| fine$/m);
    assert.match(log, /^! careful$/m);
    const ms = Number(/^\+\d+\.\d{3}s > exit 3 \((\d+) ms\)$/m.exec(log)?.[1]);
    assert.ok(ms >= 0 && ms < 60_000, `the time it took: ${ms} ms`);
  });

  it('a killed command logs its signal, and its exit code is -1', async () => {
    const { sh, logFile } = shell({ env: { PATH: '/usr/bin:/bin' } });
    const r = await sh.run(sh0, ['-c', 'kill -TERM $$'], { allowFailure: true });
    assert.equal(r.exitCode, -1);
    assert.match(readFileSync(logFile, 'utf8'), /^\+\d+\.\d{3}s > exit SIGTERM \(\d+ ms\)$/m);
  });

  it('onLine gets each non-blank line, split at \\n, \\r\\n or \\r, the last one even without a newline', async () => {
    const fake = fakeRunner(() => ({ stdout: 'one\n  \n\ntwo\r\nthree\rfour' }));
    const { sh } = shell({ runner: fake.runner });
    const lines: string[] = [];
    await sh.kubectl(['x'], { onLine: (l) => lines.push(l) });
    assert.deepEqual(lines, ['one', 'two', 'three', 'four']);
    const blankTail = fakeRunner(() => ({ stdout: 'one\n   ' }));
    const tail: string[] = [];
    await shell({ runner: blankTail.runner }).sh.kubectl(['x'], { onLine: (l) => tail.push(l) });
    assert.deepEqual(tail, ['one'], 'a blank last line is not a line');
  });

  it('nothingIf: a failure that means "nothing there" is an empty answer; any other failure still fails', async () => {
    const notServed = 'error: the server doesn\'t have a resource type "telemetry"\n';
    const fake = fakeRunner((argv) =>
      argv.includes('telemetry') ? { code: 1, stdout: 'x', stderr: notServed } : { code: 1, stderr: 'boom\n' },
    );
    const { sh } = shell({ runner: fake.runner });
    const nothingIf = /doesn't have a resource type/;
    assert.deepEqual(await sh.kubectl(['get', 'telemetry'], { nothingIf }), { exitCode: 0, stdout: '', stderr: notServed });
    await assert.rejects(sh.kubectl(['get', 'other'], { nothingIf }), /kubectl exited with 1: boom/);
    const ok = fakeRunner(() => ({ stdout: 'found', stderr: notServed }));
    assert.equal((await shell({ runner: ok.runner }).sh.kubectl(['get', 'telemetry'], { nothingIf })).stdout, 'found');
  });

  it('a run already cancelled starts nothing', async () => {
    const fake = fakeRunner();
    const ac = new AbortController();
    ac.abort();
    const { sh } = shell({ runner: fake.runner, signal: ac.signal });
    await assert.rejects(sh.kubectl(['get', 'x']), AbortError);
    assert.equal(fake.calls.length, 0);
  });

  it("a command's own signal stops it alone; the run's signal stops it too", async () => {
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin' } });
    const own = new AbortController();
    const stopped = sh.run('sleep', ['300'], { signal: own.signal, allowFailure: true });
    own.abort();
    assert.notEqual((await stopped).exitCode, 0);
    const run = new AbortController();
    const both = shell({ env: { PATH: '/usr/bin:/bin' }, signal: run.signal });
    const mine = new AbortController();
    const byRun = both.sh.run('sleep', ['300'], { signal: mine.signal });
    run.abort();
    await assert.rejects(byRun, AbortError);
    const again = shell({ env: { PATH: '/usr/bin:/bin' }, signal: new AbortController().signal });
    const own2 = new AbortController();
    const byOwn = again.sh.run('sleep', ['300'], { signal: own2.signal, allowFailure: true });
    own2.abort();
    assert.notEqual((await byOwn).exitCode, 0, "the command's own signal stops it beside the run's");
  });

  it("a second Ctrl-C kills the commands still running, never a finished one's process group", async (t) => {
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin' } });
    await sh.run('true', []);
    const kill = t.mock.method(process, 'kill', () => true);
    sh.killRunning();
    assert.equal(kill.mock.callCount(), 0, 'a finished command is forgotten (its group id may be reused)');
    kill.mock.restore();
    const running = sh.run('sleep', ['30']);
    const killed = t.mock.method(process, 'kill', () => true);
    sh.killRunning();
    killed.mock.restore();
    assert.equal(killed.mock.callCount(), 1);
    const [group, signal] = killed.mock.calls[0].arguments as [number, string];
    assert.ok(group < 0, 'the whole process group');
    assert.equal(signal, 'SIGKILL');
    process.kill(group, 'SIGKILL');
    await assert.rejects(running, /sleep exited with SIGKILL/);
  });

  it('a command stopped at its time limit says it timed out, even when it exits with a code of its own', async () => {
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin' } });
    const trapping = ['-c', 'trap "exit 3" TERM; echo ready; while :; do sleep 0.01; done'];
    await assert.rejects(sh.run('/bin/sh', trapping, { timeoutMs: 300 }), /sh timed out after 0.3s/);
  });

  it('stdin is closed unless there is input: a tool that reads it gets end of file at once', async () => {
    const { sh } = shell({ env: { PATH: '/usr/bin:/bin' } });
    assert.equal((await sh.run('cat', [])).stdout, '');
    assert.equal((await sh.run('cat', [], { input: 'given' })).stdout, 'given');
  });

  it('a failure names the tool by its program name, not its path; a timeout says so only for a timeout', async () => {
    const fake = fakeRunner(() => ({ code: 2, stderr: 'Error: bad flag\n' }));
    const { sh } = shell({ runner: fake.runner });
    await assert.rejects(sh.istioctl(['x'], { timeoutMs: 5000 }), (e: Error) => {
      assert.equal(e.message, 'istioctl exited with 2: Error: bad flag');
      return true;
    });
    const killed = shell({ env: { PATH: '/usr/bin:/bin' } });
    await assert.rejects(killed.sh.run(sh0, ['-c', 'kill -TERM $$'], { timeoutMs: 60_000 }), (e: Error) => {
      assert.equal(e.message, 'sh exited with SIGTERM');
      return true;
    });
  });
});
