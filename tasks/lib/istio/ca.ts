// A root CA and a per-cluster intermediate CA, made the way Istio's tools/certs makes them
// (RSA 4096, SHA-256, 3650 days, O=Istio, pathlen:0 and SAN istiod.istio-system.svc on the intermediate),
// laid out as its Makefile.selfsigned.mk does: <dir>/root-{cert,key}.pem and <dir>/<cluster>/{ca-cert,
// ca-key,root-cert,cert-chain}.pem. Keys are written 0600 in a 0700 directory and never leave the files.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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

/** Writes atomically: a half-written key or certificate never appears under its real name. */
/** Writes `file` whole or not at all, making its folder (private) first: a stopped run leaves no empty folders. */
function writeFileAtomic(file: string, data: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode, flag: 'w' });
  renameSync(tmp, file);
}

/**
 * Creates whatever is missing (the root once, an intermediate per cluster) and returns what it made.
 * Existing files are reused only when they check out: a broken set is an error, never silently replaced,
 * because a cluster may already trust it. Once `signal` aborts (Ctrl-C, or another step failed), nothing more is
 * written and nothing more is waited for: key generation cannot be stopped midway, but its keys are thrown away.
 */
export async function ensureCa(
  certsDir: string,
  cluster: string,
  bits: number = caSpec.keyBits,
  signal?: AbortSignal,
): Promise<{ paths: CaPaths; created: string[] }> {
  const p = caPaths(certsDir, cluster);
  const created: string[] = [];
  // Loaded only when something must be issued: the X.509 library is the slowest import of the tool.
  const { createRoot, createIntermediate, importRoot, keyPair, keyPem } = await import('./ca-issue.ts');
  for (const [a, b] of [
    [p.rootCert, p.rootKey],
    [p.caCert, p.caKey],
  ])
    if (existsSync(a) !== existsSync(b))
      throw new StepError(
        `${existsSync(a) ? b : a} is missing but ${path.basename(existsSync(a) ? a : b)} exists: restore it, or move ${p.dir} and ${path.dirname(p.rootCert)}/root-*.pem away to make a new CA`,
      );
  // The intermediate's key is made while the root's is: key generation is most of a new CA's time.
  const interKeys = existsSync(p.caCert) ? undefined : keyPair(bits);
  interKeys?.catch(() => {}); // awaited below, unless the root fails first
  let root: Issued;
  if (existsSync(p.rootCert)) root = await importRoot(p.rootCert, p.rootKey);
  else {
    root = await untilAborted(createRoot(bits), signal);
    writeFileAtomic(p.rootKey, await keyPem(root.keys.privateKey), 0o600);
    writeFileAtomic(p.rootCert, `${root.cert.toString('pem')}\n`, 0o644);
    created.push('root CA');
  }
  if (!existsSync(p.caCert)) {
    const inter = await untilAborted(createIntermediate(root, cluster, bits, interKeys), signal);
    const rootPem = `${root.cert.toString('pem')}\n`;
    const caPem = `${inter.cert.toString('pem')}\n`;
    writeFileAtomic(p.caKey, await keyPem(inter.keys.privateKey), 0o600);
    writeFileAtomic(p.clusterRootCert, rootPem, 0o644);
    writeFileAtomic(p.certChain, caPem + rootPem, 0o644);
    writeFileAtomic(p.caCert, caPem, 0o644);
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
