// The lab's real binaries (built by lab/build.ts) and a sealed environment to run them in: no kubeconfig,
// no minikube home, no update check, nothing that can reach a cluster or the network.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin } from '../../lab/base/common.ts';
import { tmpDir } from '../helpers.ts';

export type Tool = 'kubectl' | 'istioctl' | 'minikube';
export const tools: Tool[] = ['kubectl', 'istioctl', 'minikube'];
for (const t of [...tools, 'istio-analyze-files'])
  if (!existsSync(bin(t))) throw new Error(`${bin(t)} is missing: run \`node --import tsx lab/build.ts\` first`);

export const work = tmpDir('fwi-audit-');
export const emptyKubeconfig = path.join(work, 'kubeconfig');
writeFileSync(emptyKubeconfig, '');
/**
 * The product's contexts, pointing at 127.0.0.1:1 where nothing listens: kubectl parses its flags, resolves the
 * context, builds its request (client-side checks such as "name cannot be provided when a selector is specified"
 * happen here) and is refused at once. Nothing leaves the machine.
 */
export const deadKubeconfig = path.join(work, 'kubeconfig-dead');
writeFileSync(
  deadKubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nobody, user: {token: audit}}]
contexts: [{name: lab, context: {cluster: nowhere, user: nobody}}, {name: fun-with-istio, context: {cluster: nowhere, user: nobody}}]
`,
);
/** Everything the real tools read or write stays in `work`: no kubeconfig, no minikube home, no update check. */
export const toolEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: work,
  KUBECONFIG: emptyKubeconfig,
  MINIKUBE_HOME: path.join(work, 'minikube-home'),
  MINIKUBE_WANTUPDATENOTIFICATION: 'false',
  MINIKUBE_IN_STYLE: 'false',
  ...extra,
});

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}
export function runTool(file: string, args: string[], env: NodeJS.ProcessEnv = toolEnv()): Ran {
  const r = spawnSync(file, args, { env, encoding: 'utf8', input: '', timeout: 60_000, maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The newest Kubernetes the audit's minikube supports (`constants.NewestKubernetesVersion` of k8s.io/minikube@v1.38.1). */
export const minikubeNewestKubernetes = 'v1.35.1';
