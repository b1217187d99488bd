// The Debian packages the real node runs on: containerd (with ctr and the runc shim), runc, the CNI plugins and iptables
// (kube-proxy's rules); and those its Bookinfo images are made of: Ruby with webrick (details), pip for Debian's Python
// (productpage), a static busybox and unzip (reviews' Liberty). The lab build installs the missing ones when it runs as root with apt-get; otherwise it names them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cniPlugins, hostCniPluginDir } from '../node/paths.ts';

/** What the real node runs from the host (a program on PATH, or a CNI plugin's path), and the package with it. */
const providers: Record<string, string> = {
  containerd: 'containerd',
  'containerd-shim-runc-v2': 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  iptables: 'iptables',
  nsenter: 'util-linux',
  'ruby3.1': 'ruby',
  '/usr/share/rubygems-integration/all/specifications/webrick-1.8.1.gemspec': 'ruby-webrick',
  '/usr/lib/python3/dist-packages/pip/__init__.py': 'python3-pip',
  '/bin/busybox': 'busybox-static',
  unzip: 'unzip',
  // ztunnel's build (lab/toolchain/ztunnel.ts) compiles its protobufs with protoc.
  protoc: 'protobuf-compiler',
  ...Object.fromEntries(cniPlugins.map((p) => [path.join(hostCniPluginDir, p), 'containernetworking-plugins'])),
};

const which = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export const missingHostPrograms = (): string[] =>
  Object.keys(providers).filter((p) => (p.startsWith('/') ? !existsSync(p) : !which(p)));

export const packagesFor = (missing: string[]): string[] => [...new Set(missing.map((m) => providers[m] ?? m))].sort();

function apt(args: string[]): void {
  const r = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
}

/** Installs what is missing (root with apt-get), or returns the line that says what to install. */
export function ensureHostPackages(log: (m: string) => void): string | undefined {
  const missing = missingHostPrograms();
  if (missing.length === 0) return undefined;
  const pkgs = packagesFor(missing);
  const canInstall = process.getuid?.() === 0 && which('apt-get');
  if (!canInstall) return `the real node needs: apt-get install ${pkgs.join(' ')} (as root)`;
  const t = Date.now();
  log(`installing ${pkgs.join(' ')} (apt-get)`);
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  const still = missingHostPrograms();
  if (still.length) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
  log(`installed in ${((Date.now() - t) / 1000).toFixed(0)}s`);
  return undefined;
}
