// `check FILE...`: the tutorial's pod-spec requirements on any manifests (named ports, app labels).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { formatFinding, lint } from './lib/istio/podspec.ts';
import { type K8sObject, parseManifests, readManifests } from './lib/kube/manifests.ts';
import type { ActionCommand } from './lib/run/types.ts';

function yamlFiles(target: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(target);
  } catch {
    throw new UsageError(`no such file or directory: ${target}`);
  }
  if (!st.isDirectory()) return [target];
  return readdirSync(target)
    .sort()
    .flatMap((f) =>
      statSync(path.join(target, f)).isDirectory()
        ? yamlFiles(path.join(target, f))
        : /\.ya?ml$/.test(f)
          ? [path.join(target, f)]
          : [],
    );
}

/** The manifests each argument names: `-` is standard input, a directory its YAML files (at least one). */
function sources(arg: string): { name: string; docs: K8sObject[] }[] {
  if (arg === '-') return [{ name: '<stdin>', docs: parseManifests(readFileSync(0, 'utf8'), '<stdin>', UsageError) }];
  const files = yamlFiles(arg);
  if (!files.length) throw new UsageError(`no .yaml or .yml files in ${arg}`);
  return files.map((f) => ({ name: f, docs: readManifests(f, UsageError) }));
}

const count = (n: number, what: string) => `${n} ${what}`;

export const check: ActionCommand = {
  kind: 'action',
  name: 'check',
  examples: [
    'npm run check -- manifests/',
    'npm run check -- --strict k8s/',
    'kubectl get deploy,svc -o yaml | npm run -s check -- -',
  ],
  local: true,
  exitCodes: '0 no error (or, with --strict, no finding), 1 otherwise, 2 bad usage (no such file, not YAML).',
  args: 'FILE|DIR|-...',
  flags: ['strict'],
  summary: 'lint manifests against the pod-spec requirements (named ports, app labels)',
  details: `
Service ports should be named <protocol>[-<suffix>] (http, http2, https, grpc, grpc-web, http_proxy, tcp,
tls, mongo, mysql, redis, udp), unless appProtocol or UDP says the protocol. This is Istio's own rule
(istioctl analyze IST0118) at Istio's level, information: Istio sniffs the protocol of a port it cannot
name. Workloads should carry a distinct app label (a warning; Istio does not check it).
A FILE of - reads standard input. Runs no external program.`,
  action: async (ctx, args) => {
    if (!args.length) throw new UsageError('check needs at least one FILE, DIR or - (npm run check -- manifests/)');
    const inputs = args.flatMap(sources);
    const findings = inputs.flatMap((s) => lint(s.docs, s.name));
    for (const f of findings) ctx.out(`${formatFinding(f)}\n`);
    const of = (severity: string) => findings.filter((f) => f.severity === severity).length;
    ctx.out(
      `${inputs.length} file(s): ${count(of('error'), 'error(s)')}, ${count(of('warning'), 'warning(s)')}, ${count(of('info'), 'info')}\n`,
    );
    return of('error') || (ctx.options.strict && findings.length) ? 1 : 0;
  },
};

runIfMain(import.meta.url, check);
