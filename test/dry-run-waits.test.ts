// A dry run shows what would run and waits for nothing: no step sleeps in one, whatever it would wait for on a
// cluster (before this test, `ISTIO_MODE=ambient npm run all -- --dry-run` waited WAIT_TIMEOUT for the CNI agent's
// mark on pods that a dry run never makes).
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../Taskfile.ts';
import { fakeRunner, runCli, virtualClock } from './helpers.ts';

const release = path.join(import.meta.dirname, 'fixtures', 'release');
const existing = { CACHE_DIR: '/nonexistent/cache', CLUSTER: 'existing', KUBE_CONTEXT: 'lab', ISTIO_HOME: release };

describe('a dry run never waits', () => {
  const listed = commands.filter((c) => !c.local && !(c.kind === 'action' && c.args));
  for (const c of listed)
    for (const mode of c.track ? [c.track.mode] : ['sidecar', 'ambient'])
      it(`${c.name} (${mode})`, async () => {
        const clock = virtualClock();
        const runner = fakeRunner(() => assert.fail('a dry run spawned a command')).runner;
        const r = await runCli([c.name, '--dry-run'], { env: { ...existing, ISTIO_MODE: mode }, runner, clock });
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(clock.slept, [], 'slept');
      });
});
