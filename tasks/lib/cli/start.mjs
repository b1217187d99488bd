// @ts-check
// The npm scripts' entry. The Taskfile and its chapters are bundled once into one ES module (esbuild; packages stay
// external) and reused while the sources are unchanged, so a command does not compile its TypeScript on every start:
// tsx's loader costs about 0.5 s on Node 20, node itself 0.07 s. Where no bundle can be made or kept (esbuild
// missing, the cache not writable), the sources run through tsx as before. Plain JavaScript: it runs before any loader.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Bumped when the bundle is built differently: old bundles are then never used. */
const buildVersion = '1';

/**
 * What a bundle is made of, relative to `root`: the Taskfile, every TypeScript file under tasks/, tsconfig.json.
 * @param {string} root
 * @returns {string[]}
 */
export function sourcesOf(root) {
  const tasks = readdirSync(path.join(root, 'tasks'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join('tasks', f));
  return ['Taskfile.ts', 'tsconfig.json', ...tasks].sort();
}

/**
 * A digest of the sources' names and contents and of how they are built.
 * @param {string} root
 * @returns {string}
 */
export function fingerprint(root, files = sourcesOf(root)) {
  // Where the project is (each module's import.meta.url is written into the bundle) and how it is built.
  const hash = createHash('sha256')
    .update(`build ${buildVersion}\0${realpathSync(root)}\0`)
    .update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * Each module keeps its own `import.meta.url` (the project root is found from it), as it has when run through tsx.
 * @type {import('esbuild').Plugin}
 */
const keepImportMeta = {
  name: 'keep-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      loader: 'ts',
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
    }));
  },
};

/**
 * The bundle for the sources as they are now (its entry module), built if there is none. Split at each dynamic import,
 * so what a command may never need (the CA's crypto, a download's proxy agent, the unpacker) loads only when it is
 * used. Built into a temporary directory and renamed, so a run cut short (Ctrl-C, a second run at the same time) never
 * leaves a partial bundle where one is looked for. `cacheDir` must be inside `root`: the bundle finds the packages it
 * imports from where it is.
 * @param {string} root
 * @param {string} cacheDir
 * @returns {Promise<string>}
 */
export async function bundleFor(root, cacheDir) {
  const dir = path.join(cacheDir, `taskfile-${fingerprint(root)}`);
  const entry = path.join(dir, 'Taskfile.mjs');
  if (existsSync(entry)) return entry;
  const { build } = await import('esbuild');
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${dir}.${process.pid}.partial`;
  try {
    await build({
      entryPoints: [path.join(root, 'Taskfile.ts')],
      absWorkingDir: root,
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir: partial,
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
      plugins: [keepImportMeta],
    });
    renameSync(partial, dir);
  } catch (e) {
    // Another run renamed its build into place first: use that one.
    if (!existsSync(entry)) throw e;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  removeOld(cacheDir, dir);
  return entry;
}

/**
 * Bundles of other sources once a day has passed since they were made: a run that started from one may still load
 * its chunks (they load when first used), and a build in progress is never touched within the hour.
 * @param {string} cacheDir
 * @param {string} keep
 */
function removeOld(cacheDir, keep) {
  const now = Date.now();
  for (const name of readdirSync(cacheDir)) {
    const at = path.join(cacheDir, name);
    const age = now - statSync(at).mtimeMs;
    const old = name.endsWith('.partial') ? age > 3_600_000 : age > 86_400_000;
    if (name.startsWith('taskfile-') && at !== keep && old) rmSync(at, { recursive: true, force: true });
  }
}

/**
 * The Taskfile's module: the bundle where one can be had, else the sources through tsx.
 * @returns {Promise<{ main: (argv: string[]) => Promise<number> }>}
 */
export async function taskfile(root = projectRoot, cacheDir = path.join(root, 'node_modules', '.cache', 'fun-with-istio')) {
  let bundle;
  try {
    bundle = await bundleFor(root, cacheDir);
  } catch {
    const { register } = await import('tsx/esm/api');
    register();
    return import(pathToFileURL(path.join(root, 'Taskfile.ts')).href);
  }
  try {
    return await import(pathToFileURL(bundle).href);
  } catch (e) {
    // Removed by a run that built a newer one after this one found it: run the sources instead.
    if (/** @type {{ code?: string }} */ (e).code !== 'ERR_MODULE_NOT_FOUND' || existsSync(bundle)) throw e;
    const { register } = await import('tsx/esm/api');
    register();
    return import(pathToFileURL(path.join(root, 'Taskfile.ts')).href);
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { main } = await taskfile();
  await main(process.argv.slice(2));
}
