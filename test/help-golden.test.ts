// What --help prints, byte for byte, against a committed copy: the settings' docs and defaults come from the one
// table, so a change to a doc line shows here on purpose. Regenerate with
// `UPDATE_GOLDEN=1 node --import tsx --test test/help-golden.test.ts`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './helpers.ts';

const dir = path.join(import.meta.dirname, 'fixtures', 'help');

// all starts minikube (its settings are listed), teardown does not; check runs nothing; mtls is an Istio task
// (--keep-routing); the usage lists commands.
const cases: [name: string, argv: string[]][] = [
  ['usage', ['--help']],
  ['all', ['all', '--help']],
  ['teardown', ['teardown', '--help']],
  ['check', ['check', '--help']],
  ['mtls', ['mtls', '--help']],
];

describe('help is unchanged', () => {
  for (const [name, argv] of cases)
    it(name, async () => {
      const r = await runCli(argv);
      assert.equal(r.code, 0, r.err);
      const file = path.join(dir, `${name}.txt`);
      if (process.env.UPDATE_GOLDEN) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, r.out);
      }
      assert.ok(existsSync(file), `${file} is missing: UPDATE_GOLDEN=1 writes it, on purpose`);
      assert.equal(r.out, readFileSync(file, 'utf8'));
    });
});
