import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { prepareModule, resolutionKey, type WrapperModule } from '../lab/toolchain/wrapper-module.ts';

const harness: WrapperModule = {
  name: 'istio',
  goMod: 'module lab.local/istio\n',
  packages: ['istio.io/istio/istioctl/cmd/istioctl', './analyze-files'],
  files: { 'analyze-files/main.go': 'package main\n' },
};

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wrapper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a generated package exists before `go get` is asked to resolve it (a fresh machine has nothing else)', (t) => {
  const dir = tempDir(t);
  const seen: string[][] = [];
  prepareModule(harness, dir, (args, cwd) => {
    seen.push(args);
    for (const rel of Object.keys(harness.files))
      assert.ok(existsSync(path.join(cwd, rel)), `${rel} missing when go ${args.join(' ')} ran`);
    assert.equal(readFileSync(path.join(cwd, 'go.mod'), 'utf8'), harness.goMod);
  });
  assert.deepEqual(seen, [['get', ...harness.packages]]);
});

test('the resolved marker is keyed on go.mod, the package list and the generated sources', (t) => {
  const dir = tempDir(t);
  let calls = 0;
  const go = (): void => void calls++;
  assert.equal(prepareModule(harness, dir, go), true);
  assert.equal(prepareModule(harness, dir, go), false, 'the same module is not resolved twice');
  assert.equal(prepareModule({ ...harness, files: { 'analyze-files/main.go': 'package main // changed\n' } }, dir, go), true);
  assert.equal(prepareModule({ ...harness, packages: [harness.packages[0]] }, dir, go), true);
  assert.equal(prepareModule({ ...harness, goMod: 'module lab.local/other\n' }, dir, go), true);
  assert.equal(calls, 4);
  assert.notEqual(resolutionKey(harness), resolutionKey({ ...harness, files: {} }));
});

test('a failed resolution leaves no marker, so the next build tries again', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () =>
      prepareModule(harness, dir, () => {
        throw new Error('go get failed');
      }),
    /go get failed/,
  );
  assert.equal(existsSync(path.join(dir, '.resolved')), false);
});

test('a skipped resolution still refreshes the generated sources the build compiles', (t) => {
  const dir = tempDir(t);
  prepareModule(harness, dir, () => {});
  rmSync(path.join(dir, 'analyze-files'), { recursive: true });
  assert.equal(
    prepareModule(harness, dir, () => {}),
    false,
  );
  assert.ok(existsSync(path.join(dir, 'analyze-files/main.go')), 'analyze-files/main.go was generated again');
});

test('importing a lab script is free of side effects: lab/up.ts starts nothing', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "await import('./lab/up.ts'); console.log('imported')"],
    {
      cwd: path.resolve(import.meta.dirname, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'imported\n');
  assert.equal(r.status, 0);
});
