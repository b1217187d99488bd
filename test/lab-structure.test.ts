// The shape of lab/: its commands at the top (each an npm script or run by one), everything they share in rooms,
// each room's README naming its files and the rooms it may import, with no cycle between rooms.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

const lab = path.resolve(import.meta.dirname, '..', 'lab');
const isDir = (p: string) => statSync(p).isDirectory();
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) =>
    isDir(path.join(dir, f)) ? walk(path.join(dir, f)) : f.endsWith('.ts') ? [path.join(dir, f)] : [],
  );
/** The folders of lab/ that hold TypeScript (go/ and bench/ hold programs of other languages). */
const rooms = readdirSync(lab).filter((f) => isDir(path.join(lab, f)) && walk(path.join(lab, f)).length > 0);
const roomOf = (file: string) => {
  const rel = path.relative(lab, file);
  return rel.startsWith('..') || !rel.includes('/') ? undefined : rel.split('/')[0];
};
const allowedOf = (room: string): string[] | undefined => {
  const line = /^May import: (.*)\.$/m.exec(readFileSync(path.join(lab, room, 'README.md'), 'utf8'))?.[1];
  return line === undefined ? undefined : line === 'nothing of the lab' ? [] : line.split(', ');
};
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    path.resolve(path.dirname(file), m[1]),
  );

it("each lab room's README names each of its files and says which rooms it may import", () => {
  assert.deepEqual(rooms.sort(), ['base', 'images', 'node', 'toolchain', 'xds']);
  for (const room of rooms) {
    const readme = readFileSync(path.join(lab, room, 'README.md'), 'utf8');
    assert.ok(allowedOf(room), `lab/${room}/README.md has no "May import: ..." line`);
    const unnamed = readdirSync(path.join(lab, room)).filter(
      (f) => (f.endsWith('.ts') || isDir(path.join(lab, room, f))) && !readme.includes(`\`${f}`),
    );
    assert.deepEqual(unnamed, [], `lab/${room}/README.md does not name these`);
  }
});

it('a lab room imports only the rooms its README allows, never a command, and the rooms have no cycle', () => {
  const allowed = new Map(rooms.map((r) => [r, allowedOf(r) ?? []]));
  const offenders = walk(lab).flatMap((f) => {
    const from = roomOf(f);
    if (!from) return []; // a command: it may use every room
    return importsOf(f)
      .filter((i) => i.startsWith(`${lab}/`))
      .filter((i) => {
        const to = roomOf(i);
        return to === undefined || (to !== from && !allowed.get(from)?.includes(to));
      })
      .map((i) => `${path.relative(lab, f)} -> ${path.relative(lab, i)}`);
  });
  assert.deepEqual(offenders, []);
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    (allowed.get(from) ?? []).some((r) => r === to || (!seen.has(r) && seen.add(r) && reaches(r, to, seen)));
  assert.deepEqual(
    rooms.filter((r) => reaches(r, r)),
    [],
  );
});
