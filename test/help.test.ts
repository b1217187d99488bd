// Help in the conventions of kubectl and istioctl: Usage and Examples, only what applies, under 100 columns.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import { settingNames } from '../tasks/config.ts';
import { runCli } from './helpers.ts';

describe('help', () => {
  const helpOf = async (c: string) => (await runCli(['help', c])).out;
  const settingsIn = (text: string) => [...text.matchAll(/^ {2}([A-Z_]{4,}) +\S/gm)].map((m) => m[1]);

  it('every command that runs programs says which (Runs:); check runs none', async () => {
    for (const c of commands.filter((x) => !x.local)) assert.match(await helpOf(c.name), /^Runs: /m, c.name);
    assert.doesNotMatch(await helpOf('check'), /^Runs: /m);
  });

  it('the overview lists each option once and every setting', async () => {
    const out = (await runCli(['help'])).out;
    assert.equal(out.match(/^ {2}--version /gm)?.length, 1);
    assert.deepEqual(settingsIn(out), [...settingNames]);
  });

  it('--yes is offered only where the command asks first', async () => {
    assert.match(await helpOf('teardown'), /^ {2}--yes, -y /m);
    for (const c of ['all', 'minikube', 'mtls']) assert.doesNotMatch(await helpOf(c), /--yes/, c);
    assert.equal((await runCli(['minikube', '--yes', '--dry-run'])).code, 0, 'still accepted: it asks nothing');
  });

  it("teardown's dry run stands for a cluster where all has run; the chapters' for a fresh one", async () => {
    assert.match(await helpOf('teardown'), /--dry-run +print every command it would run on a cluster where `all` has run/);
    assert.match(await helpOf('all'), /--dry-run +print every command it would run on a fresh cluster/);
  });

  it('a command lists the settings it reads, and not those only other commands read', async () => {
    const teardown = settingsIn(await helpOf('teardown'));
    assert.ok(teardown.includes('SAMPLE_NAMESPACE'), 'teardown reads the sample namespace');
    for (const other of ['ADDONS', 'TRAFFIC_REQUESTS', 'SHIFT_REQUESTS', 'ISTIO_PROFILE', 'MINIKUBE_MEMORY'])
      assert.ok(!teardown.includes(other), other);
    assert.ok(settingsIn(await helpOf('traffic-shifting')).includes('SHIFT_REQUESTS'), 'traffic-shifting reads SHIFT_REQUESTS');
    assert.deepEqual(
      settingsIn(await helpOf('all')),
      settingNames.filter((n) => !['SHIFT_REQUESTS', 'ISTIO_PREVIOUS_VERSION', 'ISTIO_PREVIOUS_HOME'].includes(n)),
      'all: what its chapters read (not the upgrade’s)',
    );
  });

  it('every command: Usage and Examples sections, no line of 100 characters or more', async () => {
    for (const c of ['', ...commands.map((x) => x.name)]) {
      const r = await runCli(c ? ['help', c] : ['help']);
      assert.equal(r.code, 0, c);
      assert.match(r.out, /^Usage:$/m, c);
      assert.match(r.out, /^Examples:$/m, c);
      assert.deepEqual(
        r.out.split('\n').filter((l) => l.length >= 100),
        [],
        c,
      );
    }
  });

  it('`help <command>` is `<command> --help`', async () => {
    assert.equal((await runCli(['help', 'teardown'])).out, (await runCli(['teardown', '--help'])).out);
  });

  it('lists only the settings a command reads: minikube start settings where minikube starts', async () => {
    assert.match((await runCli(['help', 'minikube'])).out, /^ {2}MINIKUBE_MEMORY /m);
    assert.doesNotMatch((await runCli(['help', 'injection'])).out, /MINIKUBE_MEMORY|MINIKUBE_DRIVER/);
  });

  it('a mistyped command gets a "did you mean"', async () => {
    const r = await runCli(['teardwon']);
    assert.equal(r.code, 2);
    assert.equal(r.err, "error: unknown command 'teardwon' (did you mean teardown?); npm run help lists them\n");
  });

  it('--version prints the tool version and its pins', async () => {
    const { version } = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const expected = `fun-with-istio ${version} (pins: Istio 1.31.1, Kubernetes v1.36.3, minikube v1.39.0)\n`;
    assert.equal((await runCli(['--version'])).out, expected);
    assert.equal((await runCli(['all', '--version'])).out, expected);
  });

  it('`npm run help` exists, for the README to point at', () => {
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts.help, 'node tasks/lib/cli/start.mjs help');
  });
});

describe('Windows', () => {
  it('is refused up front, in one sentence', async () => {
    const { main } = await import('../Taskfile.ts');
    let err = '';
    const code = await main(['all', '--dry-run'], {
      platform: 'win32',
      envFile: '/nonexistent/.env',
      err: (t) => (err += t),
      out: () => {},
    });
    process.exitCode = 0;
    assert.equal(code, 2);
    assert.equal(err, 'error: Windows is not supported: run fun-with-istio in WSL 2, or on Linux or macOS\n');
  });
});
