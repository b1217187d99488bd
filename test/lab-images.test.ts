// The real-node lab's image recipe: archives that `ctr images import` reads, root filesystems from this machine's files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeDockerArchive } from '../lab/images/archive.ts';
import { releaseImages } from '../lab/images/bookinfo/release.ts';
import { staleArchives } from '../lab/images/build-images.ts';
import { cachedDir, contentKey } from '../lab/images/cached-dir.ts';
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
  const image = { ref: 'docker.io/istio/proxyv2:1.31.0', config: { Entrypoint: ['/x'], User: '1337' } };
  const diffId = writeDockerArchive(root, [image], out);
  const unpacked = path.join(dir, 'unpacked');
  tar(['-xf', out, '-C', dir, '--one-top-level=unpacked']);
  const manifest = JSON.parse(readFileSync(path.join(unpacked, 'manifest.json'), 'utf8'));
  assert.equal(manifest.length, 1);
  assert.deepEqual(manifest[0].RepoTags, ['docker.io/istio/proxyv2:1.31.0']);
  assert.deepEqual(manifest[0].Layers, ['layer.tar']);
  const config = JSON.parse(readFileSync(path.join(unpacked, manifest[0].Config), 'utf8'));
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
  const x = [{ ref: 'x:1', config: {} }];
  const first = writeDockerArchive(root, x, path.join(dir, 'a.tar'));
  utimesSync(path.join(root, 'f'), new Date(), new Date());
  assert.equal(writeDockerArchive(root, x, path.join(dir, 'b.tar')), first, 'mtime is not part of the layer');
  writeFileSync(path.join(root, 'f'), 'b\n');
  assert.notEqual(writeDockerArchive(root, x, path.join(dir, 'c.tar')), first);
});

test('images of one root filesystem share its one layer, each under its name with its own config', (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'rootfs');
  stageRootfs(root, [{ text: 'war\n', to: '/app.war' }]);
  const out = path.join(dir, 'reviews.tar');
  const env = (v: string, color: string) => ({ Env: [`SERVICE_VERSION=${v}`, `STAR_COLOR=${color}`] });
  writeDockerArchive(
    root,
    [
      { ref: 'reviews-v1:1', config: env('v1', 'black') },
      { ref: 'reviews-v2:1', config: env('v2', 'black') },
      { ref: 'reviews-v3:1', config: env('v3', 'red') },
    ],
    out,
  );
  const unpacked = path.join(dir, 'unpacked');
  tar(['-xf', out, '-C', dir, '--one-top-level=unpacked']);
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = JSON.parse(
    readFileSync(path.join(unpacked, 'manifest.json'), 'utf8'),
  );
  assert.deepEqual(
    manifest.map((m) => [m.RepoTags, m.Layers]),
    [
      [['reviews-v1:1'], ['layer.tar']],
      [['reviews-v2:1'], ['layer.tar']],
      [['reviews-v3:1'], ['layer.tar']],
    ],
  );
  const envs = manifest.map((m) => JSON.parse(readFileSync(path.join(unpacked, m.Config), 'utf8')).config.Env);
  assert.deepEqual(envs, [env('v1', 'black').Env, env('v2', 'black').Env, env('v3', 'red').Env]);
  assert.equal(new Set(manifest.map((m) => m.Config)).size, 3, 'each image has its own config file');
  assert.deepEqual(
    tar(['-tf', out])
      .trim()
      .split('\n')
      .filter((f) => f === 'layer.tar'),
    ['layer.tar'],
    'one layer, once',
  );
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

test("Bookinfo's images are named as the release's bookinfo.yaml names them, per Deployment", () => {
  const manifest = readFileSync(
    path.join(import.meta.dirname, 'fixtures/release/samples/bookinfo/platform/kube/bookinfo.yaml'),
    'utf8',
  );
  const images = releaseImages(manifest);
  assert.deepEqual([...images.keys()].sort(), [
    'details-v1',
    'productpage-v1',
    'ratings-v1',
    'reviews-v1',
    'reviews-v2',
    'reviews-v3',
  ]);
  assert.equal(images.get('reviews-v3'), 'docker.io/istio/examples-bookinfo-reviews-v3:1.20.3');
  // The Services, ServiceAccounts and a Deployment's second container do not count; an empty document is skipped.
  const other = releaseImages(
    '---\n---\nkind: Service\nmetadata: {name: x}\n---\nkind: Deployment\nmetadata: {name: a-v1}\nspec: {template: {spec: {containers: [{image: "reg.example/a:1"}, {image: "reg.example/b:1"}]}}}\n',
  );
  assert.deepEqual([...other], [['a-v1', 'reg.example/a:1']]);
});

test('a cached input is made once per key; a failed make leaves nothing; a new key replaces the older one', (t) => {
  const dir = tempDir(t);
  let made = 0;
  const make = (into: string) => {
    made++;
    writeFileSync(path.join(into, 'site'), 'packages');
  };
  const first = cachedDir(dir, 'productpage-packages', 'a'.repeat(12), make);
  // An image copies it whole, for a user that is not root: it must be readable and searchable by all.
  assert.equal(statSync(first).mode & 0o777, 0o755, 'the made directory is mode 0755');
  assert.equal(cachedDir(dir, 'productpage-packages', 'a'.repeat(12), make), first);
  assert.equal(made, 1, 'made once');
  assert.throws(
    () =>
      cachedDir(dir, 'productpage-packages', 'b'.repeat(12), () => {
        throw new Error('pip: no matching distribution');
      }),
    /no matching distribution/,
  );
  assert.deepEqual(readdirSync(dir), [path.basename(first)], 'the failed make left nothing, the older one stays');
  assert.throws(() => cachedDir('bookinfo', 'x', 'e'.repeat(12), make), /must be absolute, not bookinfo/);
  writeFileSync(path.join(dir, 'productpage-app-dddddddddddd'), '');
  const second = cachedDir(dir, 'productpage-packages', 'c'.repeat(12), make);
  assert.deepEqual(
    readdirSync(dir).sort(),
    ['productpage-app-dddddddddddd', path.basename(second)],
    'only its own older one goes',
  );
});

test("an input's key changes with any byte of its files and with its words", (t) => {
  const dir = tempDir(t);
  const f = path.join(dir, 'requirements.txt');
  writeFileSync(f, 'Flask==3.1.0\n');
  const key = contentKey([f], ['/usr/bin/python3.11']);
  assert.match(key, /^[0-9a-f]{12}$/);
  assert.notEqual(contentKey([f], ['/usr/bin/python3.12']), key);
  writeFileSync(f, 'Flask==3.1.1\n');
  assert.notEqual(contentKey([f], ['/usr/bin/python3.11']), key);
});
