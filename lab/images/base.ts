// What a distroless base image gives every image the lab assembles.
import type { RootfsEntry } from './rootfs.ts';

/**
 * What a distroless base gives every image: users (each in its own group unless `gid` says otherwise), name service
 * order, CA certificates, a writable /tmp.
 */
export function base(users: { name: string; uid: number; gid?: number }[] = []): RootfsEntry[] {
  const all = [{ name: 'root', uid: 0 }, ...users, { name: 'nobody', uid: 65534 }];
  const groups = all.filter((u) => (u.gid ?? u.uid) === u.uid);
  return [
    { text: all.map((u) => `${u.name}:x:${u.uid}:${u.gid ?? u.uid}::/tmp:/sbin/nologin\n`).join(''), to: '/etc/passwd' },
    { text: groups.map((u) => `${u.name}:x:${u.uid}:\n`).join(''), to: '/etc/group' },
    { text: 'hosts: files dns\n', to: '/etc/nsswitch.conf' },
    { copy: '/etc/ssl/certs/ca-certificates.crt', mode: 0o644 },
    { dir: '/tmp', mode: 0o1777 },
  ];
}
