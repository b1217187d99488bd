// Help in the conventions of kubectl and istioctl: Usage and Examples, only what applies, under 100 columns.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import { runCli } from './helpers.ts';

describe('help', () => {
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
    assert.equal(r.err, "error: unknown command 'teardwon'; did you mean teardown? (npm run help lists them)\n");
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
    assert.equal(pkg.scripts.help, 'node --import tsx Taskfile.ts help');
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
