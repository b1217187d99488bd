// Where the README states what the tool does, the tool does it: each claim checked against a run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { runCli } from './helpers.ts';

const readme = readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
const section = (title: string) =>
  readme.slice(readme.indexOf(`## ${title}`), readme.indexOf('\n## ', readme.indexOf(`## ${title}`) + 3));

it("the pod spec requirements: a badly named port is Istio's information, exit 0; --strict fails on it", async () => {
  const claims = section('Pod spec requirements').replace(/\s+/g, ' ');
  assert.match(claims, /`check` reports it as `info` and exits 0; `check --strict` exits 1 on any finding/);
  const bad = await runCli(['check', 'test/fixtures/lint/bad.yaml']);
  assert.equal(bad.code, 0);
  assert.match(bad.out, /: info: port 8080 has name 'http2foo'/);
  assert.equal((await runCli(['check', '--strict', 'test/fixtures/lint/bad.yaml'])).code, 1);
});

it("the docs load the lab's settings with the line lab:up prints", async () => {
  const { loadEnvLine } = await import('../lab/base/common.ts');
  const root = path.resolve(import.meta.dirname, '..');
  for (const doc of ['README.md', 'lab/NOTES.md']) {
    const text = readFileSync(path.join(root, doc), 'utf8');
    assert.ok(text.includes(loadEnvLine), `${doc} has no "${loadEnvLine}"`);
    assert.doesNotMatch(text, /export \$\(grep -v '\^#' \.lab\/env/, `${doc} has another way to load .lab/env`);
  }
  const up = readFileSync(path.join(root, 'lab', 'up.ts'), 'utf8');
  assert.match(up, /`up\. \$\{loadEnvLine\}/, 'lab:up prints the same line');
});
