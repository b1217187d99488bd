// Faults the e2e tests put in the lab's way. A port refused for a while: one iptables rule on the host's loopback,
// tagged with a comment so that `lab:down` removes any a stopped test left. The kwok lab's API server calls istiod's
// webhook on 127.0.0.1, so refusing that port is the webhook unreachable, and nothing else.
import { spawnSync } from 'node:child_process';

export const faultComment = 'fun-with-istio-lab-fault';

const iptables = (args: string[]) => spawnSync('iptables', ['-w', '5', ...args], { encoding: 'utf8' });

/** Whether ports can be refused here (iptables installed: the real node's packages bring it). */
export const canRefusePorts = (): boolean => spawnSync('sh', ['-c', 'command -v iptables'], { stdio: 'ignore' }).status === 0;

const rule = (port: number): string[] => [
  'INPUT',
  ...['-i', 'lo', '-p', 'tcp', '--dport', String(port)],
  ...['-m', 'comment', '--comment', faultComment],
  ...['-j', 'REJECT', '--reject-with', 'tcp-reset'],
];

/** Connections to 127.0.0.1:`port` are refused (reset) until `allowPort`. */
export function refusePort(port: number): void {
  const r = iptables(['-I', ...rule(port)]);
  if (r.status !== 0) throw new Error(`iptables -I ${rule(port).join(' ')}: ${r.stderr.trim()}`);
}

export function allowPort(port: number): void {
  const r = iptables(['-D', ...rule(port)]);
  if (r.status !== 0) throw new Error(`iptables -D ${rule(port).join(' ')}: ${r.stderr.trim()}`);
}

/** Removes every rule of the lab's faults; returns how many there were. */
export function removeFaults(): number {
  if (!canRefusePorts()) return 0;
  const ours = iptables(['-S', 'INPUT'])
    .stdout.split('\n')
    .filter((l) => l.includes(faultComment));
  for (const line of ours) iptables(['-D', ...line.replace(/^-A /, '').split(/\s+/)]);
  return ours.length;
}
