// Certificates of the lab control plane, made with the openssl CLI (test-only: one CA, short-lived leaves).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

export interface Leaf {
  name: string;
  subject: string;
  usage: 'server' | 'client';
  sans?: string[];
}

/** Makes ca.{crt,key}, sa.{key,pub} and each leaf's {crt,key} in `dir` unless present. */
/** A new P-256 key, unencrypted (`openssl req` arguments). */
const newEcKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makePki(dir: string, leaves: Leaf[]): void {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'ca.crt'))) {
    openssl(
      [
        'req',
        '-x509',
        ...newEcKey,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '30',
        '-subj',
        '/O=fun-with-istio/CN=fun-with-istio-lab-ca',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ],
      dir,
    );
  }
  if (!existsSync(path.join(dir, 'sa.key'))) {
    openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
    openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  }
  for (const l of leaves) {
    if (existsSync(path.join(dir, `${l.name}.crt`))) continue;
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${l.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(l.sans?.length ? [`subjectAltName=${l.sans.join(',')}`] : []),
    ].join('\n');
    writeFileSync(path.join(dir, `${l.name}.ext`), `${ext}\n`);
    openssl(['req', '-new', ...newEcKey, '-keyout', `${l.name}.key`, '-out', `${l.name}.csr`, '-subj', l.subject], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${l.name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '30',
        '-out',
        `${l.name}.crt`,
        '-extfile',
        `${l.name}.ext`,
      ],
      dir,
    );
    rmSync(path.join(dir, `${l.name}.csr`));
    rmSync(path.join(dir, `${l.name}.ext`));
  }
}
