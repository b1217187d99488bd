// The shape of the code: chapters are leaves (only Taskfile.ts composes them) and nothing imports in a cycle.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

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
