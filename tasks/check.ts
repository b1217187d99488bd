// `check FILE...`: the tutorial's pod-spec requirements on any manifests (named ports, app labels).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './lib/errors.ts';
import { runIfMain } from './lib/main.ts';
import { readManifests } from './lib/manifests.ts';
import { formatFinding, lint } from './lib/podspec.ts';
import type { ActionCommand } from './lib/types.ts';

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

export const check: ActionCommand = {
  kind: 'action',
  name: 'check',
  local: true,
  args: 'FILE|DIR...',
  summary: 'lint manifests against the pod-spec requirements (named ports, app labels)',
  details: `
Service ports must be named <protocol>[-<suffix>] (http, http2, https, grpc, grpc-web, http_proxy, tcp,
tls, mongo, mysql, redis, udp), unless appProtocol or UDP says the protocol; this is Istio's own rule (istioctl
analyze IST0118), as an error. Workloads should carry a distinct app label (a warning; Istio does not check it).
Exit code 1 when any error is found. Runs no external program.`,
  action: async (ctx, args) => {
    if (!args.length) throw new UsageError('check needs at least one FILE or DIR (npm run check -- manifests/)');
    const files = args.flatMap(yamlFiles);
    const findings = files.flatMap((f) => lint(readManifests(f, UsageError), f));
    for (const f of findings) ctx.out(`${formatFinding(f)}\n`);
    const errors = findings.filter((f) => f.severity === 'error').length;
    ctx.out(`${files.length} file(s): ${errors} error(s), ${findings.length - errors} warning(s)\n`);
    return errors ? 1 : 0;
  },
};

runIfMain(import.meta.url, check);
