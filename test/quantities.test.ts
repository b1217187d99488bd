// Resource quantities as the nodes report them, as numbers: what the ambient install's room check adds up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpus, mebibytes } from '../tasks/lib/kube/quantities.ts';

describe('quantities', () => {
  it('CPUs: whole, decimal and milli', () => {
    assert.deepEqual(['4', '3500m', '0.5', '250m'].map(cpus), [4, 3.5, 0.5, 0.25]);
    for (const bad of ['', 'x', '4cores', '-1', '1.5.2']) assert.ok(Number.isNaN(cpus(bad)), bad);
  });
  it('memory in MiB: binary and decimal suffixes, and plain bytes', () => {
    assert.deepEqual(['8Gi', '8388608Ki', '1Ti', '1048576', '1M', '2G'].map(mebibytes), [
      8192,
      8192,
      1048576,
      1,
      1e6 / 2 ** 20,
      2e9 / 2 ** 20,
    ]);
    for (const bad of ['', 'Gi', '8GB', '8gi', '-1Gi']) assert.ok(Number.isNaN(mebibytes(bad)), bad);
  });
});
