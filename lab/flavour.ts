// Which node the lab runs: kwok (fast, no containers) or real (a kubelet on containerd in the lab's network namespace).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from './common.ts';

export const flavours = ['kwok', 'real'] as const;
export type Flavour = (typeof flavours)[number];

/** Written by lab:up: what lab:status and lab:down find running. */
export const flavourFile = path.join(stateDir, 'flavour');

const isFlavour = (v: string): v is Flavour => (flavours as readonly string[]).includes(v);

/** `--node=kwok|real` (or `--node real`); kwok when absent. Anything else is a usage error. */
export function parseFlavour(argv: string[]): Flavour {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--node') {
      value = argv[++i];
      if (value === undefined) throw new Error(`--node takes ${flavours.join(' or ')}`);
    } else if (a.startsWith('--node=')) value = a.slice('--node='.length);
    else throw new Error(`unknown argument ${JSON.stringify(a)} (usage: lab:up [-- --node=${flavours.join('|')}])`);
  }
  if (value === undefined) return 'kwok';
  if (!isFlavour(value)) throw new Error(`--node takes ${flavours.join(' or ')}, not ${JSON.stringify(value)}`);
  return value;
}

/** The running lab's flavour (kwok for a lab started before flavours existed). */
export const runningFlavour = (): Flavour => {
  const v = existsSync(flavourFile) ? readFileSync(flavourFile, 'utf8').trim() : 'kwok';
  return isFlavour(v) ? v : 'kwok';
};
