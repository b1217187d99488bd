// Issuing the CA certificates with @peculiar/x509 (node:crypto verifies certificates but cannot make them).
import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { caSpec } from './ca-spec.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

const algorithm = (bits: number): RsaHashedKeyGenParams => ({
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: bits,
});
const usages =
  x509.KeyUsageFlags.digitalSignature |
  x509.KeyUsageFlags.nonRepudiation |
  x509.KeyUsageFlags.keyEncipherment |
  x509.KeyUsageFlags.keyCertSign;

/** A new RSA key pair, made on libuv's thread pool (two run at once on two cores). */
export async function keyPair(bits: number = caSpec.keyBits): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm(bits), true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

function validity(days: number) {
  const notBefore = new Date();
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}

export async function createRoot(bits: number = caSpec.keyBits): Promise<Issued> {
  const keys = await keyPair(bits);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ O: [caSpec.org] }, { CN: [caSpec.rootCn] }],
    keys,
    ...validity(caSpec.days),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

export async function createIntermediate(
  root: Issued,
  cluster: string,
  bits: number = caSpec.keyBits,
  made?: Promise<CryptoKeyPair>,
): Promise<Issued> {
  const keys = await (made ?? keyPair(bits));
  const cert = await x509.X509CertificateGenerator.create({
    subject: [{ O: [caSpec.org] }, { CN: [caSpec.intermediateCn] }, { L: [cluster] }],
    issuer: root.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    ...validity(caSpec.days),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(usages, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: caSpec.intermediateSan }]),
    ],
  });
  return { cert, keys };
}

export async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

export async function importRoot(certFile: string, keyFile: string): Promise<Issued> {
  const cert = new x509.X509Certificate(readFileSync(certFile, 'utf8'));
  const der = createPrivateKey(readFileSync(keyFile)).export({ type: 'pkcs8', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm(caSpec.keyBits), true, ['sign']);
  return { cert, keys: { privateKey, publicKey: await cert.publicKey.export() } as unknown as CryptoKeyPair };
}

/** The pathLen of a certificate's basicConstraints, or undefined when unlimited or absent. */
export function pathLength(pem: string): number | undefined {
  return new x509.X509Certificate(pem).getExtension(x509.BasicConstraintsExtension)?.pathLength;
}
