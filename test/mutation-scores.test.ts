// npm run mutation's arithmetic: a module's score counts killed and timed-out mutants against survivors and uncovered
// ones; a survivor listed as equivalent (by its exact place, mutator and replacement) does not count; a floor holds.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  belowThreshold,
  declarationLines,
  type Equivalent,
  guardSurvivors,
  scores,
  staleEquivalents,
  testsDigest,
} from './mutation/run.ts';

const mutant = (status: string, line: number, column = 1, replacement = 'true') => ({
  mutatorName: 'ConditionalExpression',
  replacement,
  status,
  location: { start: { line, column }, end: { line, column: column + 4 } },
});
/** The text of line n of the scored file (and of the guard test's own source, where it says so). */
const lineText = (n: number) => `line ${n};`;
const downloadSource = Array.from({ length: 8 }, (_, i) => lineText(i + 1)).join('\n');
const report = {
  files: {
    'tasks/lib/istio/download.ts': {
      source: downloadSource,
      mutants: [
        mutant('Killed', 1),
        mutant('Timeout', 2),
        mutant('Survived', 3),
        mutant('NoCoverage', 4),
        mutant('CompileError', 5),
        mutant('Survived', 6, 7),
      ],
    },
  },
};
const equivalent = (line: number, column: number, replacement = 'true', endColumn = column + 4): Equivalent => ({
  file: 'tasks/lib/istio/download.ts',
  line,
  source: lineText(line),
  column,
  end: { line, column: endColumn },
  mutator: 'ConditionalExpression',
  replacement,
  why: 'test',
});

it('a score is killed and timed out over those plus survivors and uncovered; other statuses do not count', () => {
  const [s] = scores(report, []);
  assert.deepEqual(
    { ...s, score: Math.round(s.score) },
    {
      file: 'tasks/lib/istio/download.ts',
      killed: 2,
      survived: 3,
      equivalent: 0,
      score: 40,
    },
  );
});

it('an equivalent survivor is left out only where it is: same line, column and replacement', () => {
  assert.equal(scores(report, [equivalent(6, 7)])[0].survived, 2);
  assert.equal(scores(report, [equivalent(6, 8)])[0].survived, 3, 'another column');
  assert.equal(scores(report, [equivalent(6, 7, 'false')])[0].survived, 3, 'another replacement');
  assert.equal(scores(report, [equivalent(6, 7, 'true', 12)])[0].survived, 3, 'a mutant that replaces more or less of the code');
  assert.equal(scores(report, [equivalent(1, 1)])[0].survived, 3, 'a killed mutant is no survivor to leave out');
});

it('an equivalent survivor is found by the text of its line: lines added above it do not lose it, a change to it does', () => {
  const shifted = (text: string) => ({
    files: {
      'tasks/lib/istio/download.ts': {
        source: ['// a new first line', ...downloadSource.split('\n')].join('\n').replace(lineText(6), text),
        mutants: [mutant('Survived', 7, 7)],
      },
    },
  });
  assert.equal(scores(shifted(lineText(6)), [equivalent(6, 7)])[0].survived, 0, 'one line down, the same text');
  assert.equal(scores(shifted('line 6 changed;'), [equivalent(6, 7)])[0].survived, 1, 'its line changed');
});

it('of several lines with the same text, an equivalent survivor is the one nearest where it was listed', () => {
  const twice = (survivorLine: number) => ({
    files: {
      'tasks/lib/istio/download.ts': {
        source: ['same;', 'other;', 'other;', 'same;'].join('\n'),
        mutants: [mutant('Survived', survivorLine, 7)],
      },
    },
  });
  const listedAt4 = { ...equivalent(4, 7), source: 'same;' };
  assert.equal(scores(twice(4), [listedAt4])[0].survived, 0);
  assert.equal(scores(twice(1), [listedAt4])[0].survived, 1, 'the same text further away is another mutant');
});

it('an entry whose line is gone from a scored file is named (the list may only say what is true of the code)', () => {
  assert.deepEqual(staleEquivalents(report, [equivalent(6, 7)]), []);
  assert.deepEqual(staleEquivalents(report, [{ ...equivalent(6, 7), source: 'gone;' }]), [
    'tasks/lib/istio/download.ts:6: ConditionalExpression -> true (its line is gone: gone;)',
  ]);
  assert.deepEqual(
    staleEquivalents(report, [{ ...equivalent(6, 7), file: 'tasks/other.ts', source: 'gone;' }]),
    [],
    'a file not scored',
  );
});

it('a module below its floor is named; one at it, or without a floor of its own, is held to its floor or 100%', () => {
  const [s] = scores(report, []);
  assert.deepEqual(belowThreshold([s], { 'tasks/lib/istio/download.ts': 40 }), []);
  assert.deepEqual(belowThreshold([s], { 'tasks/lib/istio/download.ts': 41 }), ['tasks/lib/istio/download.ts: 40.0% < 41%']);
  assert.deepEqual(belowThreshold([s], {}), ['tasks/lib/istio/download.ts: 40.0% < 100%']);
});

const source = [
  '// a comment',
  'const a = 1;',
  'export async function guard(x: number) {',
  '  if (x) return 1;',
  '  return 2;',
  '}',
  '/** the next one */',
  'const other = (y: number) =>',
  '  y + 1;',
  'const last = step({',
  '  run: 1,',
  '});',
].join('\n');

it('a declaration runs from its line to its closing line at column 0, or to the line before the next one', () => {
  assert.deepEqual(declarationLines(source, 'guard'), [3, 6]);
  assert.deepEqual(declarationLines(source, 'other'), [8, 9]);
  assert.deepEqual(declarationLines(source, 'last'), [10, 12]);
  assert.equal(declarationLines(source, 'gua'), undefined, 'a name is matched whole');
  assert.equal(declarationLines(source, 'missing'), undefined);
});

it('a survivor inside a guard is named; one outside it, a killed one or an equivalent one is not; a lost guard is named', () => {
  const file = 'tasks/teardown.ts';
  const guarded = {
    files: {
      [file]: {
        source,
        mutants: [
          mutant('Survived', 4, 7),
          mutant('NoCoverage', 5, 3, 'false'),
          mutant('Killed', 4, 9),
          mutant('Survived', 9, 3),
          mutant('Survived', 2, 1),
        ],
      },
    },
  };
  const equivalentIn = (line: number, column: number, replacement = 'true'): Equivalent => ({
    ...equivalent(line, column, replacement),
    source: source.split('\n')[line - 1],
    file,
  });
  assert.deepEqual(guardSurvivors(guarded, [], { [file]: ['guard'] }), [
    'tasks/teardown.ts:4:7 in guard: ConditionalExpression -> true Survived',
    'tasks/teardown.ts:5:3 in guard: ConditionalExpression -> false NoCoverage',
  ]);
  assert.deepEqual(guardSurvivors(guarded, [equivalentIn(4, 7), equivalentIn(5, 3, 'false')], { [file]: ['guard'] }), []);
  assert.deepEqual(guardSurvivors(guarded, [], { [file]: ['gone'] }), [
    'tasks/teardown.ts: no declaration gone (guards.json names it)',
  ]);
  assert.deepEqual(guardSurvivors(guarded, [], { 'tasks/other.ts': ['guard'] }), [], 'a group that did not run');
});

it("the tests' digest changes with any test file's content or name, not with the order they are listed in", () => {
  const files: Record<string, string> = { 'a.test.ts': 'one', 'b.test.ts': 'two' };
  const read = (f: string) => files[f] ?? '';
  const digest = testsDigest(['a.test.ts', 'b.test.ts'], read);
  assert.equal(testsDigest(['b.test.ts', 'a.test.ts'], read), digest);
  files['b.test.ts'] = 'two!';
  assert.notEqual(testsDigest(['a.test.ts', 'b.test.ts'], read), digest, 'a changed test');
  files['b.test.ts'] = 'two';
  assert.notEqual(
    testsDigest(['a.test.ts', 'c.test.ts'], (f) => (f === 'c.test.ts' ? 'two' : read(f))),
    digest,
    'a renamed test',
  );
  assert.notEqual(testsDigest(['a.test.ts'], read), digest, 'a test left out');
});

it('every mutated module has a floor, and none is below 80%', async () => {
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const { groups } = await import('./mutation/groups.mjs'); // a plain ES module shared with stryker.config.mjs
  const floors = JSON.parse(readFileSync(path.join(import.meta.dirname, 'mutation', 'thresholds.json'), 'utf8')) as Record<
    string,
    number
  >;
  const mutated = Object.values(groups as Record<string, { mutate: string[] }>).flatMap((g) => g.mutate);
  assert.deepEqual(Object.keys(floors).sort(), [...mutated].sort());
  assert.deepEqual(
    Object.entries(floors).filter(([, floor]) => floor < 80),
    [],
  );
});
