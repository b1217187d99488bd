import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { isAbortError, StepError, untilAborted } from '../tasks/lib/base/errors.ts';
import { type CaPaths, caPaths, caSpec, checkCa, ensureCa, secretFiles } from '../tasks/lib/istio/ca.ts';
import { pathLength } from '../tasks/lib/istio/ca-issue.ts';
import { tmpDir } from './helpers.ts';

describe('plug-in CA (real keys, checked with node:crypto)', () => {
  const dir = tmpDir('fwi-ca-');
  let p: CaPaths;
  let created: string[];
  before(async () => {
    ({ paths: p, created } = await ensureCa(dir, 'lab'));
  });

  it('creates a root and an intermediate for the cluster', () => {
    assert.deepEqual(created, ['root CA', 'intermediate CA for lab']);
    assert.deepEqual(Object.keys(secretFiles(p)).sort(), ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
  });

  it('makes the chain Istio expects', () => {
    const root = new X509Certificate(readFileSync(p.rootCert));
    const ca = new X509Certificate(readFileSync(p.caCert));
    assert.ok(root.ca && ca.ca, 'the root and the intermediate are both CA certificates');
    assert.equal(root.subject, 'O=Istio\nCN=Root CA');
    assert.equal(ca.subject, 'O=Istio\nCN=Intermediate CA\nL=lab');
    assert.equal(ca.issuer, root.subject);
    assert.ok(
      ca.checkIssued(root) && ca.verify(root.publicKey) && root.verify(root.publicKey),
      'the intermediate is signed by the root, the root by itself',
    );
    assert.equal(ca.subjectAltName, `DNS:${caSpec.intermediateSan}`);
    assert.equal(pathLength(readFileSync(p.caCert, 'utf8')), 0);
    assert.equal(pathLength(readFileSync(p.rootCert, 'utf8')), undefined);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
    assert.equal(root.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
    const days = (new Date(root.validTo).getTime() - new Date(root.validFrom).getTime()) / 86_400_000;
    assert.equal(Math.round(days), caSpec.days);
  });

  it('keys match their certificates and are mode 0600', () => {
    assert.ok(
      new X509Certificate(readFileSync(p.caCert)).checkPrivateKey(createPrivateKey(readFileSync(p.caKey))),
      'ca-key.pem matches ca-cert.pem',
    );
    assert.ok(
      new X509Certificate(readFileSync(p.rootCert)).checkPrivateKey(createPrivateKey(readFileSync(p.rootKey))),
      'root-key.pem matches root-cert.pem',
    );
    for (const key of [p.caKey, p.rootKey]) assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(statSync(p.dir).mode & 0o777, 0o700);
  });

  it('cert-chain.pem is ca-cert then root-cert, and the cluster root equals the root', () => {
    assert.equal(readFileSync(p.certChain, 'utf8'), readFileSync(p.caCert, 'utf8') + readFileSync(p.rootCert, 'utf8'));
    assert.equal(readFileSync(p.clusterRootCert, 'utf8'), readFileSync(p.rootCert, 'utf8'));
    assert.deepEqual(checkCa(p), []);
  });

  it('reuses what exists and signs a new cluster with the same root', async () => {
    const again = await ensureCa(dir, 'lab');
    assert.deepEqual(again.created, []);
    const other = await ensureCa(dir, 'other');
    assert.deepEqual(other.created, ['intermediate CA for other']);
    const root = new X509Certificate(readFileSync(p.rootCert));
    assert.ok(
      new X509Certificate(readFileSync(other.paths.caCert)).checkIssued(root),
      'the intermediate for other is signed by the same root',
    );
  });

  it('refuses broken files rather than replacing them', async () => {
    const d = tmpDir('fwi-ca-bad-');
    const { paths } = await ensureCa(d, 'c', 2048);
    chmodSync(paths.caKey, 0o644);
    assert.match(checkCa(paths).join(';'), /ca-key.pem is readable by others/);
    writeFileSync(paths.caKey, readFileSync(paths.rootKey), { mode: 0o600 });
    chmodSync(paths.caKey, 0o600);
    await assert.rejects(
      ensureCa(d, 'c', 2048),
      (e: unknown) => e instanceof StepError && /ca-key.pem does not match ca-cert.pem/.test(e.message),
    );
  });

  it('writes nothing once the run is stopped (Ctrl-C, or another step failed) while the keys are made', async () => {
    const d = tmpDir('fwi-ca-stopped-');
    const stop = new AbortController();
    const making = ensureCa(d, 'c', 2048, stop.signal);
    stop.abort();
    await assert.rejects(making, (e: unknown) => isAbortError(e));
    assert.deepEqual(readdirSync(d, { recursive: true }), [], 'no key, certificate or directory was written');
    // The same files, not stopped: all of them.
    await ensureCa(d, 'c', 2048, new AbortController().signal);
    assert.equal(readdirSync(d, { recursive: true }).length, 7);
  });
});

describe('a CA written by a run that is killed midway: each set whole or absent, and the next run goes on', () => {
  /** Stops the run as a kill would: after `n` of the renames that put the files in place, nothing more is done. */
  const cutAfter = (n: number) => {
    let done = 0;
    return {
      rename: (from: string, to: string) => {
        if (done++ === n) throw new Error('killed');
        renameSync(from, to);
      },
    };
  };
  const held = (dir: string, files: string[]) => files.filter((f) => existsSync(path.join(dir, f)));

  for (const n of [0, 1, 2])
    it(`killed before rename ${n + 1} of 3 (root key, root certificate, the cluster's folder)`, async () => {
      const d = tmpDir('fwi-ca-cut-');
      await assert.rejects(ensureCa(d, 'c', 2048, undefined, cutAfter(n)), /killed/);
      const p = caPaths(d, 'c');
      const cluster = held(p.dir, ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
      assert.ok(cluster.length === 0 || cluster.length === 4, `the cluster's folder is whole or absent: ${cluster}`);
      // Keys are 0600 from their first byte, under whatever name they have.
      for (const f of readdirSync(d, { recursive: true }) as string[])
        if (f.includes('key')) assert.equal(statSync(path.join(d, f)).mode & 0o077, 0, f);
      const again = await ensureCa(d, 'c', 2048);
      assert.deepEqual(checkCa(again.paths), []);
      assert.equal(again.created.length, n < 2 ? 2 : 1, again.created.join(', '));
      assert.deepEqual(readdirSync(d).sort(), ['c', 'root-cert.pem', 'root-key.pem'], 'nothing staged is left');
    });

  it("a root key without its certificate that a cluster's folder holds a copy of is the user's to restore", async () => {
    const d = tmpDir('fwi-ca-cut-');
    const { paths } = await ensureCa(d, 'c', 2048);
    rmSync(paths.rootCert);
    await assert.rejects(
      ensureCa(d, 'c', 2048),
      (e: unknown) => e instanceof StepError && e.message.includes(`restore it (${paths.clusterRootCert} is a copy)`),
    );
    assert.ok(existsSync(paths.rootKey), 'nothing was replaced');
  });

  it('a cluster folder that an earlier run left without ca-cert.pem is made again; a certificate without its key is not', async () => {
    const d = tmpDir('fwi-ca-cut-');
    await ensureCa(d, 'c', 2048);
    const p = caPaths(d, 'c');
    rmSync(p.caCert);
    const again = await ensureCa(d, 'c', 2048);
    assert.deepEqual(again.created, ['intermediate CA for c']);
    assert.deepEqual(checkCa(p), []);
    rmSync(p.caKey);
    await assert.rejects(ensureCa(d, 'c', 2048), /ca-key.pem is missing but ca-cert.pem exists/);
  });

  it("what a killed run staged is removed; a live run's is not", async () => {
    const d = tmpDir('fwi-ca-cut-');
    mkdirSync(path.join(d, 'c.999999999.tmp'));
    writeFileSync(path.join(d, `root-key.pem.${process.ppid}.tmp`), 'x', { mode: 0o600 });
    await ensureCa(d, 'c', 2048);
    assert.deepEqual(readdirSync(d).sort(), ['c', 'root-cert.pem', `root-key.pem.${process.ppid}.tmp`, 'root-key.pem'].sort());
  });
});

describe('untilAborted', () => {
  it('ends the wait for work that never settles as soon as the run stops', async () => {
    const stop = new AbortController();
    const waiting = untilAborted(new Promise<never>(() => {}), stop.signal);
    stop.abort();
    await assert.rejects(waiting, (e: unknown) => isAbortError(e));
  });

  it('passes on what the work gives, or how it failed, while the run goes on', async () => {
    const signal = new AbortController().signal;
    assert.equal(await untilAborted(Promise.resolve(7), signal), 7);
    await assert.rejects(untilAborted(Promise.reject(new Error('bad key')), signal), /bad key/);
  });

  it('does not start waiting once the run has stopped', async () => {
    await assert.rejects(untilAborted(Promise.resolve(7), AbortSignal.abort()), (e: unknown) => isAbortError(e));
  });
});
