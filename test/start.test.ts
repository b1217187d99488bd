// The npm scripts' entry (tasks/lib/cli/start.mjs): the bundle is rebuilt exactly when a source changes, a build cut
// short or failed leaves nothing that a later run would use, and a bundled command prints what the sources print
// through tsx, byte for byte, with the sources' tsx as the way out where no bundle can be kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bundleFor, fingerprint, sourcesOf } from '../tasks/lib/cli/start.mjs';
import { tmpDir } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '..');

/** A project of three sources: the Taskfile, one module under tasks/, tsconfig.json. */
function project(): string {
  const dir = tmpDir('fwi-start-');
  mkdirSync(path.join(dir, 'tasks', 'lib'), { recursive: true });
  writeFileSync(path.join(dir, 'tsconfig.json'), '{}\n');
  writeFileSync(path.join(dir, 'tasks', 'lib', 'where.ts'), 'export const where: string = import.meta.url;\n');
  writeFileSync(
    path.join(dir, 'Taskfile.ts'),
    "import { where } from './tasks/lib/where.ts';\nexport const main = (): string => where;\n",
  );
  return dir;
}

describe('the bundle is rebuilt exactly when a source changes', () => {
  it('its sources: the Taskfile, tsconfig.json and every .ts under tasks/', () => {
    const dir = project();
    writeFileSync(path.join(dir, 'tasks', 'notes.md'), '');
    assert.deepEqual(sourcesOf(dir), ['Taskfile.ts', 'tasks/lib/where.ts', 'tsconfig.json']);
  });

  it('the fingerprint follows contents and names, not anything else in the project', () => {
    const dir = project();
    const first = fingerprint(dir);
    writeFileSync(path.join(dir, 'README.md'), 'not a source');
    assert.equal(fingerprint(dir), first);
    writeFileSync(path.join(dir, 'tasks', 'lib', 'where.ts'), 'export const where: string = "x";\n');
    const edited = fingerprint(dir);
    assert.notEqual(edited, first);
    writeFileSync(path.join(dir, 'tasks', 'new.ts'), '');
    assert.notEqual(fingerprint(dir), edited);
    writeFileSync(path.join(dir, 'tsconfig.json'), '{"compilerOptions":{}}\n');
    assert.notEqual(fingerprint(dir), edited);
  });

  it('built once, then reused; a changed source gets a new bundle and the old one goes', async () => {
    const dir = project();
    const cache = path.join(dir, 'cache');
    const first = await bundleFor(dir, cache);
    const built = statSync(first).mtimeMs;
    assert.equal(await bundleFor(dir, cache), first);
    assert.equal(statSync(first).mtimeMs, built, 'not rebuilt');
    writeFileSync(path.join(dir, 'tasks', 'lib', 'where.ts'), 'export const where: string = import.meta.url + "!";\n');
    const second = await bundleFor(dir, cache);
    assert.notEqual(second, first);
    // A run that started from the first may still load its chunks: it stays a day.
    assert.deepEqual(readdirSync(cache).sort(), [path.basename(path.dirname(first)), path.basename(path.dirname(second))].sort());
    const dayAgo = new Date(Date.now() - 86_400_000 - 60_000);
    utimesSync(path.dirname(first), dayAgo, dayAgo);
    writeFileSync(path.join(dir, 'tasks', 'lib', 'where.ts'), 'export const where: string = import.meta.url + "?";\n');
    const third = await bundleFor(dir, cache);
    assert.deepEqual(readdirSync(cache).sort(), [path.basename(path.dirname(second)), path.basename(path.dirname(third))].sort());
  });

  it('the same sources elsewhere (a moved or copied project) are another bundle: the paths in it differ', () => {
    const dir = project();
    const copy = tmpDir('fwi-start-copy-');
    cpSync(dir, copy, { recursive: true });
    assert.notEqual(fingerprint(copy), fingerprint(dir));
  });

  it('each module keeps its own import.meta.url in the bundle (the project root is found from it)', async () => {
    const dir = project();
    const bundle = await bundleFor(dir, path.join(dir, 'cache'));
    const { main } = (await import(bundle)) as { main: () => string };
    assert.equal(main(), `file://${path.join(dir, 'tasks', 'lib', 'where.ts')}`);
  });

  it('a source that does not compile: the build fails and leaves no bundle, finished or partial', async () => {
    const dir = project();
    writeFileSync(path.join(dir, 'tasks', 'lib', 'where.ts'), 'export const where: string = ;\n');
    const cache = path.join(dir, 'cache');
    await assert.rejects(bundleFor(dir, cache), /Expected expression|Unexpected/);
    assert.deepEqual(readdirSync(cache), []);
  });
});

describe('a bundled command prints what the sources print', () => {
  const env = { ...process.env, CACHE_DIR: tmpDir('fwi-start-cache-'), NO_COLOR: '1' };
  const viaStart = (cacheDir: string, args: string[]) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { taskfile } = await import(${JSON.stringify(path.join(root, 'tasks/lib/cli/start.mjs'))});
         const { main } = await taskfile(${JSON.stringify(root)}, ${JSON.stringify(cacheDir)});
         await main(${JSON.stringify(args)});`,
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
  const viaTsx = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'Taskfile.ts', ...args], { cwd: root, env, encoding: 'utf8' });

  it('all --dry-run: the same listing, the same exit code, through the bundle', (t) => {
    // Inside the project, as the real one is: the bundle finds its packages from where it is.
    mkdirSync(path.join(root, 'node_modules', '.cache'), { recursive: true });
    const cache = mkdtempSync(path.join(root, 'node_modules', '.cache', 'fwi-start-test-'));
    t.after(() => rmSync(cache, { recursive: true, force: true }));
    const bundled = viaStart(cache, ['all', '--dry-run']);
    const sources = viaTsx(['all', '--dry-run']);
    assert.equal(bundled.status, 0, bundled.stderr);
    assert.equal(bundled.stdout, sources.stdout);
    assert.match(readdirSync(cache).join(' '), /^taskfile-[0-9a-f]{16}$/, 'it ran from a bundle');
    // What only some commands need is not loaded by every one: the CA's crypto stays behind its dynamic import.
    const entry = readFileSync(path.join(cache, readdirSync(cache)[0], 'Taskfile.mjs'), 'utf8');
    assert.doesNotMatch(entry, /@peculiar\/x509|reflect-metadata/);
  });

  it('where no bundle can be kept (the cache is a file): the sources through tsx, the same listing', () => {
    const blocked = path.join(tmpDir('fwi-bundle-'), 'cache');
    writeFileSync(blocked, 'not a directory');
    const r = viaStart(blocked, ['versions', '--dry-run']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, viaTsx(['versions', '--dry-run']).stdout);
  });
});
