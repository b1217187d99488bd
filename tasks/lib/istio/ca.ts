// A root CA and a per-cluster intermediate CA, made the way Istio's tools/certs makes them
// (RSA 4096, SHA-256, 3650 days, O=Istio, pathlen:0 and SAN istiod.istio-system.svc on the intermediate),
// laid out as its Makefile.selfsigned.mk does: <dir>/root-{cert,key}.pem and <dir>/<cluster>/{ca-cert,
// ca-key,root-cert,cert-chain}.pem. Keys are written 0600 in a 0700 directory and never leave the files.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StepError, untilAborted } from '../base/errors.ts';
import type { Issued } from './ca-issue.ts';
import { caSpec } from './ca-spec.ts';

export { caSpec };

export interface CaPaths {
  rootCert: string;
  rootKey: string;
  dir: string;
  caCert: string;
  caKey: string;
  certChain: string;
  clusterRootCert: string;
}

/** Files of the `cacerts` secret: key in the secret -> local file. */
export function secretFiles(p: CaPaths): Record<string, string> {
  return { 'ca-cert.pem': p.caCert, 'ca-key.pem': p.caKey, 'root-cert.pem': p.clusterRootCert, 'cert-chain.pem': p.certChain };
}

export function caPaths(certsDir: string, cluster: string): CaPaths {
  const dir = path.join(certsDir, cluster.replace(/[^A-Za-z0-9._-]/g, '_'));
  return {
    rootCert: path.join(certsDir, 'root-cert.pem'),
    rootKey: path.join(certsDir, 'root-key.pem'),
    dir,
    caCert: path.join(dir, 'ca-cert.pem'),
    caKey: path.join(dir, 'ca-key.pem'),
    certChain: path.join(dir, 'cert-chain.pem'),
    clusterRootCert: path.join(dir, 'root-cert.pem'),
  };
}

/** How the files come into place: a test cuts this short where a killed run would stop. */
export interface CaDisk {
  rename: (from: string, to: string) => void;
}
const disk: CaDisk = { rename: renameSync };

/** A file under a name of its own (keys 0600 from the first byte), until it is renamed into place. */
function staged(file: string, data: string, mode: number): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode, flag: 'w' });
  return tmp;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** What runs that were killed while writing left under their own names (a run still writing keeps its own). */
function removeStaleStaging(certsDir: string): void {
  if (!existsSync(certsDir)) return;
  for (const name of readdirSync(certsDir)) {
    const pid = /\.(\d+)\.tmp$/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) rmSync(path.join(certsDir, name), { recursive: true, force: true });
  }
}

/**
 * The root's key without its certificate is what a run killed between the two leaves (the key goes first); it signed
 * nothing that was kept unless a cluster folder holds a copy of the certificate, in which case it is the user's to restore.
 */
function leftRootKey(p: CaPaths, certsDir: string): boolean {
  if (existsSync(p.rootCert) || !existsSync(p.rootKey)) return false;
  const copy = readdirSync(certsDir, { withFileTypes: true }).find(
    (e) => e.isDirectory() && existsSync(path.join(certsDir, e.name, 'root-cert.pem')),
  );
  if (copy)
    throw new StepError(
      `${p.rootCert} is missing but root-key.pem exists: restore it (${path.join(certsDir, copy.name, 'root-cert.pem')} is a copy), or move ${certsDir} away to make a new CA`,
    );
  return true;
}

/**
 * Creates whatever is missing (the root once, an intermediate per cluster) and returns what it made.
 * Existing files are reused only when they check out: a broken set is an error, never silently replaced,
 * because a cluster may already trust it. A run killed while writing leaves each set whole or absent: a cluster's
 * folder appears in one rename, complete; the root's key, renamed before its certificate, alone is made again. Once
 * `signal` aborts (Ctrl-C, or another step failed), nothing more is written and nothing more is waited for: key
 * generation cannot be stopped midway, but its keys are thrown away.
 */
export async function ensureCa(
  certsDir: string,
  cluster: string,
  bits: number = caSpec.keyBits,
  signal?: AbortSignal,
  io: CaDisk = disk,
): Promise<{ paths: CaPaths; created: string[] }> {
  const p = caPaths(certsDir, cluster);
  const created: string[] = [];
  // Loaded only when something must be issued: the X.509 library is the slowest import of the tool.
  const { createRoot, createIntermediate, importRoot, keyPair, keyPem } = await import('./ca-issue.ts');
  removeStaleStaging(certsDir);
  const rootLeft = leftRootKey(p, certsDir);
  if (existsSync(p.rootCert) && !existsSync(p.rootKey))
    throw new StepError(
      `${p.rootKey} is missing but root-cert.pem exists: restore it, or move ${p.dir} and ${certsDir}/root-*.pem away to make a new CA`,
    );
  // A cluster folder without ca-cert.pem was never plugged in (only a whole set is): it is made again.
  if (existsSync(p.caCert) && !existsSync(p.caKey))
    throw new StepError(
      `${p.caKey} is missing but ca-cert.pem exists: restore it, or move ${p.dir} away to make a new intermediate`,
    );
  // The intermediate's key is made while the root's is: key generation is most of a new CA's time.
  const interKeys = existsSync(p.caCert) ? undefined : keyPair(bits);
  interKeys?.catch(() => {}); // awaited below, unless the root fails first
  let root: Issued;
  if (existsSync(p.rootCert)) root = await importRoot(p.rootCert, p.rootKey);
  else {
    root = await untilAborted(createRoot(bits), signal);
    const key = staged(p.rootKey, await keyPem(root.keys.privateKey), 0o600);
    const cert = staged(p.rootCert, `${root.cert.toString('pem')}\n`, 0o644);
    io.rename(key, p.rootKey);
    io.rename(cert, p.rootCert);
    created.push(rootLeft ? 'root CA (its key alone was left by a run that was stopped)' : 'root CA');
  }
  if (!existsSync(p.caCert)) {
    const inter = await untilAborted(createIntermediate(root, cluster, bits, interKeys), signal);
    const rootPem = `${root.cert.toString('pem')}\n`;
    const caPem = `${inter.cert.toString('pem')}\n`;
    const folder = `${p.dir}.${process.pid}.tmp`;
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const inFolder = (file: string) => path.join(folder, path.basename(file));
    writeFileSync(inFolder(p.caKey), await keyPem(inter.keys.privateKey), { mode: 0o600 });
    writeFileSync(inFolder(p.clusterRootCert), rootPem, { mode: 0o644 });
    writeFileSync(inFolder(p.certChain), caPem + rootPem, { mode: 0o644 });
    writeFileSync(inFolder(p.caCert), caPem, { mode: 0o644 });
    rmSync(p.dir, { recursive: true, force: true });
    io.rename(folder, p.dir);
    created.push(`intermediate CA for ${cluster}`);
  }
  const problems = checkCa(p);
  if (problems.length)
    throw new StepError(`the CA files in ${p.dir} are not usable: ${problems.join('; ')} (move them away to make new ones)`);
  return { paths: p, created };
}

/** Everything Istio needs of a plugged-in CA, checked with node:crypto; returns the problems found. */
export function checkCa(p: CaPaths, now = new Date()): string[] {
  const problems: string[] = [];
  try {
    const root = new X509Certificate(readFileSync(p.rootCert));
    const ca = new X509Certificate(readFileSync(p.caCert));
    const clusterRoot = readFileSync(p.clusterRootCert, 'utf8');
    if (!root.ca) problems.push('root-cert.pem is not a CA');
    if (!ca.ca) problems.push('ca-cert.pem is not a CA');
    if (!root.checkIssued(root) || !root.verify(root.publicKey)) problems.push('root-cert.pem is not self-signed');
    if (!ca.checkIssued(root) || !ca.verify(root.publicKey)) problems.push('ca-cert.pem is not signed by root-cert.pem');
    if (!root.checkPrivateKey(createPrivateKey(readFileSync(p.rootKey))))
      problems.push('root-key.pem does not match root-cert.pem');
    if (!ca.checkPrivateKey(createPrivateKey(readFileSync(p.caKey)))) problems.push('ca-key.pem does not match ca-cert.pem');
    if (clusterRoot.trim() !== readFileSync(p.rootCert, 'utf8').trim())
      problems.push(`${path.basename(p.dir)}/root-cert.pem differs from the root`);
    const chain = readFileSync(p.certChain, 'utf8').trim();
    if (chain !== `${readFileSync(p.caCert, 'utf8').trim()}\n${clusterRoot.trim()}`)
      problems.push('cert-chain.pem is not ca-cert.pem followed by root-cert.pem');
    for (const [file, cert] of [
      ['root-cert.pem', root],
      ['ca-cert.pem', ca],
    ] as const)
      if (new Date(cert.validTo) <= now) problems.push(`${file} expired on ${cert.validTo}`);
    for (const key of [p.rootKey, p.caKey])
      if ((statSync(key).mode & 0o077) !== 0) problems.push(`${path.basename(key)} is readable by others (chmod 600)`);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}
