// The run log says what ran with which configuration, and how the run ended; old logs go; check leaves none; a run
// after one that has no outcome (killed, the machine stopped) says so, naming that run's log.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RunLog } from '../tasks/lib/base/log.ts';
import { step, together } from '../tasks/lib/run/step.ts';
import type { TaskCommand } from '../tasks/lib/run/types.ts';
import { cacheWithCa, fakeRunner, installIstioOffline, runCli, runCommands, tmpDir, versionAnswer } from './helpers.ts';

const logsIn = (cache: string) => (existsSync(path.join(cache, 'logs')) ? readdirSync(path.join(cache, 'logs')).sort() : []);
const lastLog = (cache: string) => readFileSync(path.join(cache, 'logs', logsIn(cache).at(-1)!), 'utf8');
const reachable = fakeRunner((_argv, _input, query) => versionAnswer(query));

describe('the run log', () => {
  it('starts with the resolved configuration and ends with the outcome', async () => {
    const cache = await cacheWithCa();
    const r = await runCli(['webhook-certs'], { env: { CACHE_DIR: cache }, runner: reachable.runner });
    assert.equal(r.code, 0, r.err);
    const text = lastLog(cache);
    assert.match(text, /^# fun-with-istio \d+\.\d+\.\d+: webhook-certs \(/);
    assert.match(text, /^# versions: Istio 1\.31\.1, Kubernetes v1\.36\.3, minikube pin v1\.39\.0, Node\.js v/m);
    assert.match(text, /^# cluster: minikube profile fun-with-istio \(driver docker, 8192 MiB, 4 CPUs\)$/m);
    assert.match(text, /# outcome: done \(exit 0\)\n$/);
  });

  it("a failure's line is the log's last line, as printed", async () => {
    const cache = tmpDir('fwi-cache-');
    const down = fakeRunner((_argv, _input, query) =>
      query?.op === 'version' ? { code: 1, stderr: 'error: context "x" does not exist\n' } : undefined,
    );
    const r = await runCli(['webhook-certs'], { env: { CACHE_DIR: cache }, runner: down.runner });
    assert.equal(r.code, 1);
    const printed = r.err.split('\n')[0].replace(/ \(log: .*\)$/, '');
    assert.ok(
      lastLog(cache).trimEnd().endsWith(`# outcome: failed (exit 1): ${printed}; suggestion: run \`npm run minikube\` first`),
      lastLog(cache),
    );
  });

  it('a failure that is no command (a download that cannot resolve its host) is in the log too', async () => {
    const { cache, r } = await installIstioOffline(reachable.runner);
    assert.equal(r.code, 1);
    assert.match(lastLog(cache), /# outcome: failed \(exit 1\): error: Get Istio .*\n$/);
  });

  it('keeps only the newest LOG_KEEP logs', async () => {
    const cache = await cacheWithCa();
    for (let i = 0; i < 4; i++)
      await runCli(['webhook-certs'], { env: { CACHE_DIR: cache, LOG_KEEP: '2' }, runner: reachable.runner });
    assert.equal(logsIn(cache).length, 2);
  });

  it('check and usage errors leave no log', async () => {
    const cache = tmpDir('fwi-cache-');
    assert.equal((await runCli(['check', 'manifests/'], { env: { CACHE_DIR: cache } })).code, 0);
    assert.equal((await runCli(['all', '--bogus'], { env: { CACHE_DIR: cache } })).code, 2);
    assert.equal((await runCli(['all'], { env: { CACHE_DIR: cache, WAIT_TIMEOUT: 'soon' } })).code, 2);
    assert.deepEqual(logsIn(cache), []);
  });
});

describe('where a run spends its time', () => {
  it('each command is stamped with when it started and ended in the run, and the step it belongs to, side by side too', async () => {
    // Two steps run together; each runs one command that answers only once the other has started.
    let bothStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      let n = 0;
      bothStarted = () => ++n === 2 && resolve();
    });
    const runner = fakeRunner(() => {
      bothStarted();
      return { stdout: 'ok\n' };
    }).runner;
    const slowRunner: typeof runner = (request, io) => {
      const child = runner(request, io);
      return { exit: started.then(() => child.exit) };
    };
    const command: TaskCommand = {
      kind: 'tasks',
      name: 'side-by-side',
      summary: 's',
      tasks: () => [
        together('both', [
          step('Step A', { run: async (ctx) => void (await ctx.sh.kubectl(['get', 'a'])) }),
          step('Step B', { run: async (ctx) => void (await ctx.sh.kubectl(['get', 'b'])) }),
        ]),
      ],
    };
    const { code, err, log } = await runCommands([command], ['side-by-side'], { runner: slowRunner });
    assert.equal(code, 0, err);
    const stamped = log.split('\n').filter((l) => /^\+\d+\.\d{3}s /.test(l));
    assert.deepEqual(
      stamped.map((l) => l.replace(/^\+\d+\.\d{3}s /, '').replace(/\(\d+ ms\)/, '(N ms)')),
      [
        '[Step A] $ kubectl --context lab get a',
        '[Step B] $ kubectl --context lab get b',
        '[Step A] > exit 0 (N ms)',
        '[Step B] > exit 0 (N ms)',
      ],
    );
    const seconds = stamped.map((l) => Number(/^\+(\d+\.\d{3})s/.exec(l)?.[1]));
    assert.deepEqual(
      [...seconds].sort((a, b) => a - b),
      seconds,
      'offsets grow through the log',
    );
  });
});

describe('a run after one without an outcome', () => {
  const at = (iso: string) => new Date(iso);

  it('says so after its header, naming that run’s log', async () => {
    const cache = await cacheWithCa();
    const killed = RunLog.forRun(path.join(cache, 'logs'), 'all', 10, at('2020-01-01T00:00:00Z'));
    killed.command('kubectl --context lab get namespace istio-system -o json');
    killed.close(); // SIGKILL: no outcome written
    const r = await runCli(['webhook-certs'], { env: { CACHE_DIR: cache }, runner: reachable.runner });
    assert.equal(r.code, 0, r.err);
    const lines = lastLog(cache).split('\n');
    const note = `# the run before this one (log: ${path.basename(killed.file ?? '')}) has no outcome: it was killed, or it is still running`;
    assert.ok(lines.indexOf(note) > 0, lines.slice(0, 12).join('\n'));
    assert.ok(
      lines.slice(0, lines.indexOf(note)).some((l) => l.startsWith('# fun-with-istio ')),
      'after the header',
    );
  });

  it('says nothing after a run that ended, however it ended', () => {
    for (const outcome of ['done (exit 0)', 'failed (exit 1): error: x', 'interrupted (exit 130)']) {
      const dir = tmpDir('fwi-logs-');
      const ended = RunLog.forRun(dir, 'all', 10, at('2026-11-30T10:00:00Z'));
      ended.outcome(outcome);
      ended.close();
      assert.equal(RunLog.forRun(dir, 'all', 10, at('2026-11-30T10:01:00Z')).unfinishedBefore, undefined, outcome);
    }
  });

  it('reads the end of a long log; the first run in a directory has nothing to say', () => {
    const dir = tmpDir('fwi-logs-');
    const first = RunLog.forRun(dir, 'all', 10, at('2026-11-30T10:00:00Z'));
    assert.equal(first.unfinishedBefore, undefined);
    first.write(`# outcome: a line long ago\n${'| output\n'.repeat(2000)}`);
    first.close();
    assert.match(RunLog.forRun(dir, 'all', 10, at('2026-11-30T10:01:00Z')).unfinishedBefore ?? '', /has no outcome/);
  });

  it('looks only at run logs, not at other files beside them', () => {
    const dir = tmpDir('fwi-logs-');
    const ended = RunLog.forRun(dir, 'all', 10, at('2026-11-30T10:00:00Z'));
    ended.outcome('done (exit 0)');
    ended.close();
    writeFileSync(path.join(dir, 'zz-notes.log'), 'not a run log\n');
    assert.equal(RunLog.forRun(dir, 'all', 10, at('2026-11-30T10:01:00Z')).unfinishedBefore, undefined);
  });
});
