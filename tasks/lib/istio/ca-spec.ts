// What the plug-in CA is made of (Istio's tools/certs recipe), shared by the checker and the issuer.
import { names } from '../../config.ts';

export const caSpec = {
  keyBits: 4096,
  days: 3650,
  org: 'Istio',
  rootCn: 'Root CA',
  intermediateCn: 'Intermediate CA',
  intermediateSan: `istiod.${names.istioNamespace}.svc`,
} as const;
