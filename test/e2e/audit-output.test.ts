// Issue 4: the product's parsers fed output captured from the real binaries in this run.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bin, ISTIO_LAB_VERSION, minikubeModuleVersion } from '../../lab/base/common.ts';
import { loadConfig, pins } from '../../tasks/config.ts';
import { systemClock } from '../../tasks/lib/base/clock.ts';
import { RunLog } from '../../tasks/lib/base/log.ts';
import { compareVersions } from '../../tasks/lib/base/version.ts';
import { Shell } from '../../tasks/lib/exec/shell.ts';
import {
  istioctlVersion,
  kubectlVersions,
  minikubeVersion,
  missingProfileStatus,
  parseMinikubeStatus,
} from '../../tasks/lib/exec/tool-output.ts';
import { minikubeStatus } from '../../tasks/lib/kube/minikube.ts';
import { RunState } from '../../tasks/lib/run/run-state.ts';
import type { Ctx } from '../../tasks/lib/run/types.ts';
import { minikubeNewestKubernetes, runTool, toolEnv, work } from './real-tools.ts';

// Real output shapes through the product's parsers.

describe("the product's parsers on output captured from the real binaries", () => {
  it('kubectl version --client -o json', () => {
    const r = runTool(bin('kubectl'), ['--context', 'lab', 'version', '--client', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(kubectlVersions(r.stdout), { client: pins.kubernetes, server: undefined });
  });

  it('istioctl version --remote=false -o json', () => {
    const r = runTool(bin('istioctl'), ['--context', 'lab', 'version', '--remote=false', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(istioctlVersion(r.stdout), ISTIO_LAB_VERSION);
  });

  it('minikube version --output=json (and the product rejects v1.38.1 against its v1.39.0 pin)', () => {
    const r = runTool(bin('minikube'), ['-p', 'fwi-audit', 'version', '--output=json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(minikubeVersion(r.stdout), minikubeModuleVersion);
    assert.ok(
      compareVersions(minikubeVersion(r.stdout)!, pins.minikube) < 0,
      'the audit minikube is older than the pin, so checkTools would refuse it',
    );
  });

  it("minikube's own list of Kubernetes versions: v1.38.1 stops before the pinned Kubernetes (skew of the substitute)", (t) => {
    const r = runTool(bin('minikube'), ['config', 'defaults', 'kubernetes-version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const known = JSON.parse(r.stdout) as string[];
    assert.equal(known[0], minikubeNewestKubernetes, 'the validation run substitutes this version for --kubernetes-version');
    t.diagnostic(
      `minikube ${minikubeModuleVersion} knows Kubernetes up to ${known[0]}; the pin ${pins.kubernetes} is ${known.includes(pins.kubernetes) ? '' : 'not '}among them (the pinned minikube ${pins.minikube} could not be built to check)`,
    );
  });

  const profile = `fwi-audit-${process.pid}`;
  it('minikube status -o json for a missing profile: not a status but CloudEvents lines, exit 85', async (t) => {
    const home = path.join(work, 'mk-missing');
    const r = runTool(bin('minikube'), ['-p', profile, 'status', '-o', 'json'], toolEnv({ MINIKUBE_HOME: home }));
    t.diagnostic(`real output (exit ${r.code}): ${r.stdout.trim().split('\n').join(' / ')}`);
    // What v1.38.1 really prints: no {"Name","Host",...} object, but `out.SetJSON` events
    // {"specversion":"1.0","type":"io.k8s.sigs.minikube.info","data":{"message":"Profile \"<p>\" not found. ..."}},
    // and exit 85 (reason.ExGuestNotFound), not the 7 of the bit mask.
    assert.equal(r.code, 85);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type?: string; data?: { message?: string } });
    assert.ok(
      events.some((e) => e.type === 'io.k8s.sigs.minikube.info' && /not found/.test(e.data?.message ?? '')),
      'an info event says the profile was not found',
    );
    // The product reads that as Nonexistent (start runs, teardown has nothing to delete).
    assert.equal(parseMinikubeStatus(r.stdout).Host, 'Nonexistent');
    // The same through the product's own Shell and minikubeStatus (allowFailure on exit 85), real binary on PATH.
    assert.equal((await minikubeStatus(productCtx(profile, { MINIKUBE_HOME: home }))).Host, 'Nonexistent');
    // And the dry-run stand-in has the real shape: same exit code, same kind of line.
    const standIn = missingProfileStatus(profile);
    assert.equal(standIn.exitCode, r.code);
    assert.deepEqual(
      Object.keys(JSON.parse(standIn.stdout)),
      Object.keys(events[0]).filter((k) => ['specversion', 'type', 'data'].includes(k)),
    );
  });

  it('minikube status -o json for a stopped profile (machine on disk, container exited)', async () => {
    const home = path.join(work, 'mk-stopped');
    writeStoppedProfile(home, profile);
    // The docker driver asks the engine `docker container inspect <name> --format={{.State.Status}}`; without an
    // engine here a stand-in CLI answers "exited", the state of a stopped minikube container.
    const fakeBin = path.join(work, 'fake-docker');
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(
      path.join(fakeBin, 'docker'),
      '#!/bin/sh\nfor a in "$@"; do [ "$a" = inspect ] && { echo exited; exit 0; }; done\necho "fake docker: $*" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const env = { MINIKUBE_HOME: home, PATH: `${fakeBin}:${process.env.PATH}` };
    const r = runTool(bin('minikube'), ['-p', profile, 'status', '-o', 'json'], toolEnv(env));
    const s = parseMinikubeStatus(r.stdout);
    assert.equal(s.Host, 'Stopped', `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(s.APIServer, 'Stopped');
    assert.equal(r.code, 7, 'minikube status exit code: host, cluster and kubernetes not running (1|2|4)');
    const status = await minikubeStatus(productCtx(profile, env));
    assert.deepEqual([status.Host, status.APIServer], ['Stopped', 'Stopped']);
    // Without the engine at all, the same profile reads as Nonexistent: what teardown's "already deleted" test sees.
    const noEngine = runTool(
      bin('minikube'),
      ['-p', profile, 'status', '-o', 'json'],
      toolEnv({ MINIKUBE_HOME: home, PATH: '/usr/bin:/bin' }),
    );
    assert.equal(parseMinikubeStatus(noEngine.stdout).Host, 'Nonexistent', noEngine.stdout + noEngine.stderr);
  });
});

/** A Ctx whose Shell runs the real minikube (the lab's bin/ first on PATH) for profile `profile`. */
function productCtx(profile: string, env: Record<string, string>): Ctx {
  const config = loadConfig({
    env: { MINIKUBE_PROFILE: profile, CACHE_DIR: path.join(work, 'cache') },
    envFile: '/nonexistent/.env',
  });
  const log = new RunLog(undefined);
  const sh = new Shell({
    config,
    log,
    env: toolEnv({ ...env, PATH: `${path.dirname(bin('minikube'))}:${env.PATH ?? process.env.PATH}` }),
  });
  return {
    ownNamespaces: [],
    config,
    sh,
    log,
    options: {
      dryRun: false,
      yes: true,
      verbose: false,
      keepSample: false,
      keepCluster: false,
      keepRouting: false,
      strict: false,
      open: false,
    },
    signal: new AbortController().signal,
    clock: systemClock,
    run: new RunState(new AbortController()),
    out: () => {},
  };
}

/**
 * A stopped docker-driver profile as minikube writes it: profiles/<p>/config.json (config.SaveProfile, a ClusterConfig)
 * and machines/<p>/config.json (libmachine's host file, DriverName docker, the kic driver's fields). Field names from
 * k8s.io/minikube@v1.38.1 pkg/minikube/config/types.go and pkg/drivers/kic/kic.go; minikube reads only what it needs.
 */
function writeStoppedProfile(home: string, profile: string): void {
  const mk = path.join(home, '.minikube');
  mkdirSync(path.join(mk, 'profiles', profile), { recursive: true });
  mkdirSync(path.join(mk, 'machines', profile), { recursive: true });
  const node = {
    Name: '',
    IP: '192.168.49.2',
    Port: 8443,
    KubernetesVersion: pins.kubernetes,
    ContainerRuntime: 'docker',
    ControlPlane: true,
    Worker: true,
  };
  writeFileSync(
    path.join(mk, 'profiles', profile, 'config.json'),
    JSON.stringify(
      {
        Name: profile,
        Driver: 'docker',
        Memory: 8192,
        CPUs: 4,
        KubernetesConfig: { KubernetesVersion: pins.kubernetes, ClusterName: profile, ContainerRuntime: 'docker' },
        Nodes: [node],
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(mk, 'machines', profile, 'config.json'),
    JSON.stringify(
      {
        ConfigVersion: 3,
        DriverName: 'docker',
        Name: profile,
        Driver: {
          MachineName: profile,
          StorePath: mk,
          IPAddress: '192.168.49.2',
          NodeConfig: { OCIBinary: 'docker', ClusterName: profile, MachineName: profile },
          OCIBinary: 'docker',
        },
        HostOptions: { AuthOptions: { StorePath: mk } },
      },
      null,
      2,
    ),
  );
}
