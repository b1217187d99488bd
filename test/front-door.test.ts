// How a new user meets the tool: npm's own flags, a closed stdout, the error line, the log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const nodeDir = path.dirname(process.execPath);
/** A machine with node and npm but no minikube, kubectl or istioctl. */
const bare = () => ({ HOME: tmpDir('fwi-home-'), PATH: `${nodeDir}:/usr/bin:/bin`, CACHE_DIR: tmpDir('fwi-cache-') });
const npmRun = (args: string[], env = bare()) => {
  const r = spawnSync('npm', ['run', '-s', ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe("npm's own flags (npm run all --dry-run, without --)", () => {
  it('--dry-run that npm took for itself still means a dry run: nothing runs', () => {
    const r = npmRun(['all', '--dry-run']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\$ minikube -p fun-with-istio start /m);
    assert.match(r.err, /npm took --dry-run for itself/);
  });

  it("npm's --yes is not this tool's --yes: teardown still asks", () => {
    const r = npmRun(['teardown', '--yes']);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /npm took --yes for itself; it answers nothing here \(npm run teardown -- --yes\)/);
    assert.match(r.err, /teardown needs confirmation/);
  });

  it('a flag npm took that makes the run keep more is honoured (--keep-cluster)', () => {
    const r = npmRun(['teardown', '--keep-cluster', '--dry-run']);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /minikube -p fun-with-istio delete/);
  });
});

describe('a closed stdout', () => {
  it('ends the run quietly (npm run -s all -- --dry-run | head -3)', async () => {
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, ['--import', 'tsx', 'Taskfile.ts', 'all', '--dry-run'], { cwd: root, env: bare() });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.stdout.once('data', () => p.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    assert.doesNotMatch(err, /EPIPE|\n\s+at /);
    assert.equal(code, 0, err);
  });
});
