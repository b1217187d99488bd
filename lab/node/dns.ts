// The real node's cluster DNS: CoreDNS (lab/node/coredns.yaml) applied once the node is Ready, waited for until Available.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bin } from '../base/common.ts';
import { corednsImage } from '../images/recipes.ts';
import { addresses } from './network.ts';

export const corednsManifest = (): string =>
  readFileSync(path.join(import.meta.dirname, 'coredns.yaml'), 'utf8')
    .replaceAll('{{DNS_IP}}', addresses.dnsServiceIp)
    .replaceAll('{{COREDNS_IMAGE}}', corednsImage.ref);

export function deployDns(kubeconfig: string, timeoutSeconds = 120): void {
  const kubectl = (args: string[], input?: string): void => {
    const r = spawnSync(bin('kubectl'), ['--kubeconfig', kubeconfig, '--context', 'lab', ...args], { encoding: 'utf8', input });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  kubectl(['apply', '-f', '-'], corednsManifest());
  kubectl(['-n', 'kube-system', 'wait', '--for=condition=Available', 'deployment/coredns', `--timeout=${timeoutSeconds}s`]);
}
