// The shape of the code: chapters are leaves (only Taskfile.ts composes them), nothing imports in a cycle, and the
// tests' assertions say what failed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { commands } from '../Taskfile.ts';

const root = path.resolve(import.meta.dirname, '..');
const tasksDir = path.join(root, 'tasks');
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) =>
    statSync(path.join(dir, f)).isDirectory() ? walk(path.join(dir, f)) : f.endsWith('.ts') ? [path.join(dir, f)] : [],
  );

/** Relative imports (static and dynamic) of a file, as absolute paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

const files = [...walk(tasksDir), path.join(root, 'Taskfile.ts')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const chapters = readdirSync(tasksDir)
  .filter((f) => f.endsWith('.ts') && f !== 'config.ts')
  .map((f) => path.join(tasksDir, f));

it('no file under tasks/ imports a chapter: only Taskfile.ts composes them', () => {
  const offenders = files
    .filter((f) => f.startsWith(tasksDir))
    .flatMap((f) =>
      graph
        .get(f)!
        .filter((i) => chapters.includes(i))
        .map((i) => `${path.relative(root, f)} -> ${path.relative(root, i)}`),
    );
  assert.deepEqual(offenders, []);
});

it('only Taskfile.ts imports the runner: every run knows every command (a chapter run ad hoc goes through it)', () => {
  const runner = path.join(tasksDir, 'lib', 'cli', 'runner.ts');
  const importers = files.filter((f) => f !== runner && graph.get(f)?.includes(runner)).map((f) => path.relative(root, f));
  assert.deepEqual(importers, ['Taskfile.ts']);
});

it('a dynamic import names its module, but for the one way a chapter script reaches the Taskfile', () => {
  // cli/main.ts finds Taskfile.ts by path at run time: an ad hoc chapter run is `npm run <chapter>`. Any other
  // computed import would hide an edge from the rules above.
  const computed = files.flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(/\bimport\(\s*(?!['"])/g)].map(() => path.relative(root, f)),
  );
  assert.deepEqual(computed, ['tasks/lib/cli/main.ts']);
});

it('no import cycle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, trail: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open')
      return void cycles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(root, x)).join(' -> '));
    state.set(f, 'open');
    for (const i of graph.get(f) ?? []) visit(i, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(cycles, []);
});

const libDir = path.join(tasksDir, 'lib');
const configDir = path.join(tasksDir, 'config');
const rooms = readdirSync(libDir).filter((f) => statSync(path.join(libDir, f)).isDirectory());

/** The room a file lives in: a folder of tasks/lib, or `config` (tasks/config and its front door tasks/config.ts). */
function roomOf(file: string): string | undefined {
  if (file === path.join(tasksDir, 'config.ts') || file.startsWith(`${configDir}/`)) return 'config';
  const rel = path.relative(libDir, file);
  return rel.startsWith('..') || !rel.includes('/') ? undefined : rel.split('/')[0];
}

/** What a room's README says it may import ("May import: base, config."). */
function allowedOf(room: string): string[] | undefined {
  const readme = path.join(room === 'config' ? configDir : path.join(libDir, room), 'README.md');
  const line = /^May import: (.*)\.$/m.exec(readFileSync(readme, 'utf8'))?.[1];
  if (line === undefined) return undefined;
  return line === 'nothing of the project' ? [] : line.split(', ');
}

it('tasks/lib has no loose files: each file lives in a room', () => {
  assert.deepEqual(
    readdirSync(libDir).filter((f) => !rooms.includes(f)),
    [],
  );
});

it("each room's README names each of its files and says which rooms it may import", () => {
  for (const room of [...rooms, 'config']) {
    const dir = room === 'config' ? configDir : path.join(libDir, room);
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    assert.ok(allowedOf(room), `${room}/README.md has no "May import: ..." line`);
    const unnamed = readdirSync(dir).filter((f) => f.endsWith('.ts') && !readme.includes(`\`${f}\``));
    assert.deepEqual(unnamed, [], `${room}/README.md does not name these files`);
  }
});

it('a room imports only the rooms its README allows, and the rooms have no cycle', () => {
  const allowed = new Map([...rooms, 'config'].map((r) => [r, allowedOf(r) ?? []]));
  const offenders = files.flatMap((f) => {
    const from = roomOf(f);
    if (!from) return [];
    return (graph.get(f) ?? [])
      .filter((i) => {
        const to = roomOf(i);
        return to !== undefined && to !== from && !allowed.get(from)?.includes(to);
      })
      .map((i) => `${path.relative(root, f)} -> ${path.relative(root, i)}`);
  });
  assert.deepEqual(offenders, []);
  // The rule itself is a ladder: no room may import, through others, one that may import it.
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    (allowed.get(from) ?? []).some((r) => {
      if (r === to) return true;
      if (seen.has(r)) return false;
      seen.add(r);
      return reaches(r, to, seen);
    });
  const cycles = [...allowed.keys()].filter((r) => reaches(r, r));
  assert.deepEqual(cycles, []);
});

/** How many arguments the call whose `(` is at `open` has: commas at its own depth, strings skipped, a trailing comma not. */
function argumentCount(text: string, open: number): number {
  let depth = 0;
  let complete = 0; // arguments ended by a comma
  let pending = false; // the current argument has content
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (depth === 1 && !/[\s,)]/.test(c)) pending = true;
    if (c === "'" || c === '"' || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      depth--;
      if (depth === 0) return complete + (pending ? 1 : 0);
    } else if (c === ',' && depth === 1) {
      complete++;
      pending = false;
    }
  }
  return complete + (pending ? 1 : 0);
}

it('counts the arguments of a call as written, strings and nested calls included', () => {
  const count = (call: string) => argumentCount(call, call.indexOf('('));
  assert.equal(count('check(a.some((x, y) => x < y))'), 1);
  assert.equal(count("check(x, 'a, b (c)')"), 2);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, on purpose
  assert.equal(count('check(`${a}, ${b}`)'), 1);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, on purpose
  assert.equal(count('check(\n  [1, 2].includes(x),\n  `why ${x}`,\n)'), 2);
  assert.equal(count('check()'), 0);
});

it('every assert.ok in the tests says what failed (a bare one fails with the value alone)', () => {
  const testsDir = import.meta.dirname;
  const bare = readdirSync(testsDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.startsWith('fixtures'))
    .flatMap((f) => {
      const text = readFileSync(path.join(testsDir, f), 'utf8');
      return [...text.matchAll(/\bassert\.ok\(/g)]
        .filter((m) => argumentCount(text, (m.index ?? 0) + m[0].length - 1) < 2)
        .map((m) => `${f}:${text.slice(0, m.index).split('\n').length}`);
    });
  assert.deepEqual(bare, []);
});

it('each command has its npm script, and each npm script that starts the Taskfile names a command', () => {
  const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  const runner = /^node tasks\/lib\/cli\/start\.mjs (\S+)$/;
  const names = commands.map((c) => c.name);
  assert.deepEqual(
    names.filter((n) => scripts[n] !== `node tasks/lib/cli/start.mjs ${n}`),
    [],
    'commands without an npm script of their name',
  );
  assert.deepEqual(
    Object.entries(scripts).filter(([name, line]) => {
      const ran = runner.exec(line)?.[1];
      return ran !== undefined && ran !== name;
    }),
    [],
    'npm scripts that run another command than their name',
  );
  assert.deepEqual(
    Object.values(scripts)
      .map((line) => runner.exec(line)?.[1])
      .filter((ran) => ran !== undefined && ran !== 'help' && !names.includes(ran)),
    [],
    'npm scripts that run no command',
  );
});
