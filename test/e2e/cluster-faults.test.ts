// Faults of the cluster during a run, each once, on a fresh kwok lab: the API server restarted while Istio installs,
// istiod's process killed while the injection demo makes its pod (the lab's watcher restarts it, as the kubelet would
// restart a crashed container), istiod's webhook refused for five seconds while a task applies its routing. Each run
// ends with exit 0 after the tool's own waits, or with exit 1 and one clear line; never a hang past WAIT_TIMEOUT,
// never a stack trace; then a re-run completes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { allowPort, canRefusePorts, refusePort } from '../../lab/base/faults.ts';
import { istiodWorkDir } from '../../lab/base/istiod.ts';
import { readPid } from '../../lab/base/proc.ts';
import { names } from '../../tasks/config.ts';
import { tmpDir } from '../helpers.ts';
import { leftovers, logSince, logsIn, stepsOf } from './kill-sweep.ts';
import { lab, labKubectl, type Run, readLabEnv, root, runProduct } from './lab-client.ts';

/** WAIT_TIMEOUT of every run here, in seconds: a run a fault meets ends within it (and a margin) of the fault. */
const exec = promisify(execFile);
const waitTimeout = 60;
const margin = 60;
const cache = tmpDir('fwi-faults-');
let env: Record<string, string> = {};
const { run: kubectlRun } = labKubectl(() => env);

const product = (args: string[]) =>
  runProduct([...args, '--yes'], { ...env, CACHE_DIR: cache, WAIT_TIMEOUT: `${waitTimeout}s` }, { detached: true });

/** What a run that met a fault may show: exit 0, or exit 1 with one `error:` line; never a stack trace. */
function outcome(r: Run): string {
  assert.doesNotMatch(`${r.out}${r.err}`, /\n\s+at .*:\d+:\d+\)?\n/, 'no stack trace');
  if (r.code === 0) return 'exit 0';
  assert.equal(r.code, 1, `exit ${r.code ?? r.signal}: ${r.err}`);
  const errors = r.err.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, r.err);
  return `exit 1: ${errors[0]}`;
}

/** The lab's script `lab/<script>.ts`, without blocking this process (the run's output keeps flowing meanwhile). */
async function labAsync(script: string, ...args: string[]): Promise<void> {
  const r = await exec(process.execPath, ['--import', 'tsx', `lab/${script}.ts`, ...args], { cwd: root }).catch((e) => e);
  assert.ok(!(r instanceof Error), `lab/${script}.ts ${args.join(' ')}: ${(r as Error).message}`);
}

/**
 * Stops (SIGSTOP) or continues (SIGCONT) the run: its own process group and every command it started (each leads a
 * group of its own, all with the lab's context on their command line). A fault made while the run is stopped meets
 * the step it stopped in, however fast the step would have ended on kwok.
 */
function pause(run: ReturnType<typeof product>, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const commands = leftovers(cache).map((l) => Number(l.split(' ')[0]));
  for (const pid of [-(run.child.pid as number), ...commands.map((p) => -p), ...commands])
    try {
      process.kill(pid, signal);
    } catch {
      // ended meanwhile
    }
}

/** Runs `args` and, when the step matching `at` starts (read from the run's own log), puts the fault in its way. */
async function withFault(args: string[], at: RegExp, fault: (run: ReturnType<typeof product>) => Promise<void> | void) {
  const earlier = new Set(logsIn(cache));
  const run = product(args);
  const started = Date.now();
  let ended = false;
  void run.then(() => (ended = true));
  const reached = () => stepsOf(logSince(cache, earlier)).some((s) => at.test(s));
  while (!ended && !reached()) await delay(10);
  const reachedAfter = Date.now();
  if (ended) assert.fail(`the run ended before a step matching ${at} started: ${(await run).err}`);
  await fault(run);
  const faultEnded = Date.now();
  const hang = setTimeout(() => process.kill(-(run.child.pid as number), 'SIGKILL'), (waitTimeout + margin) * 1000);
  const r = await run;
  clearTimeout(hang);
  assert.notEqual(r.signal, 'SIGKILL', `still running ${waitTimeout + margin} s after the fault: killed`);
  const timing = `the fault began ${((reachedAfter - started) / 1000).toFixed(1)} s into the run and lasted ${((faultEnded - reachedAfter) / 1000).toFixed(1)} s; the run ended ${((r.ms - (reachedAfter - started)) / 1000).toFixed(1)} s after it began`;
  return { r, timing, log: logSince(cache, earlier) };
}

describe('faults of the cluster during a run', { timeout: 15 * 60_000 }, () => {
  before(() => {
    lab('up', '--fresh');
    env = readLabEnv();
  });
  after(() => lab('down'));

  it('the API server restarted while Istio installs: the run ends clearly, a re-run completes', async (t) => {
    const { r, timing } = await withFault(['all'], /^Install Istio/, async (run) => {
      pause(run, 'SIGSTOP');
      await labAsync('ctl', 'stop', 'kube-apiserver');
      pause(run, 'SIGCONT'); // the run goes on against no server until it is back
      await labAsync('ctl', 'start', 'kube-apiserver');
    });
    const ended = outcome(r);
    t.diagnostic(`all: ${ended}; ${timing}`);
    // Failed, then on the server being gone: its real reason, not something else.
    if (r.code) assert.match(ended, /was refused|connection refused|connection reset|unable to|shutting down|EOF/, ended);
    const again = await product(['all']);
    assert.equal(again.code, 0, again.err);
  });

  it("istiod's process killed while the injection demo makes its pod: the tool's waits carry it, or it ends clearly", async (t) => {
    // all keeps the demo's namespace (its injection proven): without it, injection makes the demo again.
    const ns = names.managedBy.value; // the default SAMPLE_NAMESPACE
    assert.equal(kubectlRun(['delete', 'namespace', ns, '--wait', '--timeout=60s']).status, 0);
    const { r, timing, log } = await withFault(['injection'], /^Recreate the/, (run) => {
      pause(run, 'SIGSTOP');
      const pid = readPid('pilot-discovery');
      assert.ok(pid, 'the watcher runs pilot-discovery');
      process.kill(pid, 'SIGKILL');
      pause(run, 'SIGCONT');
    });
    assert.match(log, /\$ kubectl .*rollout restart/, 'the pod was recreated after the kill (the webhook was needed)');
    t.diagnostic(`injection: ${outcome(r)}; ${timing}`);
    const again = await product(['injection']);
    assert.equal(again.code, 0, again.err);
  });

  it("istiod's webhook refused for five seconds while request-routing applies its routes: ended clearly, a re-run completes", {
    skip: !canRefusePorts() && 'iptables is not installed (lab:build --node=real installs it): the webhook fault was not made',
  }, async (t) => {
    const pre = await product(['bookinfo']);
    assert.equal(pre.code, 0, pre.err);
    const { webhook } = JSON.parse(readFileSync(path.join(istiodWorkDir('default'), 'ports.json'), 'utf8')) as {
      webhook: number;
    };
    const { r, timing, log } = await withFault(['request-routing'], /^Route every service to v1/, async (run) => {
      pause(run, 'SIGSTOP');
      refusePort(webhook);
      pause(run, 'SIGCONT');
      try {
        await Promise.race([run, delay(5000)]);
      } finally {
        allowPort(webhook);
      }
    });
    const ended = outcome(r);
    t.diagnostic(`request-routing: ${ended}; ${timing}`);
    if (r.code) {
      assert.match(ended, /failed calling webhook "validation\.istio\.io".*connection refused/, ended);
      assert.match(
        r.err,
        /^ {2}suggestion: istiod's webhook validation\.istio\.io did not answer: check that istiod runs/m,
        r.err,
      );
    } else assert.doesNotMatch(log, /failed calling webhook/, 'a write refused is an error, never passed over');
    const again = await product(['request-routing']);
    assert.equal(again.code, 0, again.err);
  });
});
