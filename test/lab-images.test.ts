// The real-node lab's image recipe: archives that `ctr images import` reads, root filesystems from this machine's files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeDockerArchive } from '../lab/images/archive.ts';
import { staleArchives } from '../lab/images/build-images.ts';
import { sharedLibraries, stageRootfs } from '../lab/images/rootfs.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-images-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const tar = (args: string[], cwd?: string): string => {
  const r = spawnSync('tar', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

const program = '/bin/true';

test('a dynamically linked program brings its loader and C library, found by ldd', () => {
  const libs = sharedLibraries(program);
  assert.ok(
    libs.some((l) => /\/ld-linux[^/]*\.so/.test(l)),
    `no loader in ${libs}`,
  );
  assert.ok(
    libs.some((l) => /\/libc\.so/.test(l)),
    `no libc in ${libs}`,
  );
});

const notRoot = process.getuid?.() !== 0 && 'chroot needs root';

test('a staged root filesystem runs its program with only what was staged (chroot)', { skip: notRoot }, (t) => {
  const root = path.join(tempDir(t), 'rootfs');
  stageRootfs(root, [
    { copy: program, to: '/bin/program' },
    { text: 'root:x:0:0::/:/bin/program\n', to: '/etc/passwd' },
    { dir: '/tmp', mode: 0o1777 },
  ]);
  const r = spawnSync('chroot', [root, '/bin/program'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `chroot ${root} /bin/program: ${r.stderr}`);
  assert.equal(readFileSync(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0::/:/bin/program\n');
});

test('a missing host file is named before anything is written', (t) => {
  const root = path.join(tempDir(t), 'rootfs');
  assert.throws(() => stageRootfs(root, [{ copy: '/nonexistent/envoy' }]), /\/nonexistent\/envoy is missing on this machine/);
});

test('the archive names the image, and its config holds the digest of the layer it carries', (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'rootfs');
  stageRootfs(root, [{ text: 'hello\n', to: '/greeting', mode: 0o600 }]);
  const out = path.join(dir, 'image.tar');
  const diffId = writeDockerArchive(root, 'docker.io/istio/proxyv2:1.31.0', { Entrypoint: ['/x'], User: '1337' }, out);
  const unpacked = path.join(dir, 'unpacked');
  tar(['-xf', out, '-C', dir, '--one-top-level=unpacked']);
  const manifest = JSON.parse(readFileSync(path.join(unpacked, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest, [{ Config: 'config.json', RepoTags: ['docker.io/istio/proxyv2:1.31.0'], Layers: ['layer.tar'] }]);
  const config = JSON.parse(readFileSync(path.join(unpacked, 'config.json'), 'utf8'));
  const layerDigest = `sha256:${createHash('sha256')
    .update(readFileSync(path.join(unpacked, 'layer.tar')))
    .digest('hex')}`;
  assert.equal(diffId, layerDigest);
  assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [layerDigest] });
  assert.deepEqual(config.config, { Entrypoint: ['/x'], User: '1337' });
  const listing = tar(['-tvf', path.join(unpacked, 'layer.tar')]);
  assert.match(listing, /^-rw------- 0\/0 +6 1970-01-01 00:00 \.\/greeting$/m, listing);
});

test('the same files make the same layer; a changed byte makes another', (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'rootfs');
  stageRootfs(root, [{ text: 'a\n', to: '/f' }]);
  const first = writeDockerArchive(root, 'x:1', {}, path.join(dir, 'a.tar'));
  utimesSync(path.join(root, 'f'), new Date(), new Date());
  assert.equal(writeDockerArchive(root, 'x:1', {}, path.join(dir, 'b.tar')), first, 'mtime is not part of the layer');
  writeFileSync(path.join(root, 'f'), 'b\n');
  assert.notEqual(writeDockerArchive(root, 'x:1', {}, path.join(dir, 'c.tar')), first);
});

test('a rebuilt image replaces its own older archive, never another image whose tag starts alike', () => {
  const ref = 'docker.io/istio/proxyv2:1.31.0';
  const key = (c: string) => c.repeat(16);
  const files = [
    `docker.io_istio_proxyv2_1.31.0-${key('a')}.tar`,
    `docker.io_istio_proxyv2_1.31.0-${key('b')}.tar`,
    `docker.io_istio_proxyv2_1.31.0-distroless-${key('c')}.tar`,
    `docker.io_istio_proxyv2_1.31.0-${key('d')}.tar.tmp`,
    `docker.io_istio_pilot_1.31.0-${key('e')}.tar`,
  ];
  assert.deepEqual(staleArchives(files, ref, files[1]), [files[0]]);
});
