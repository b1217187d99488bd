// Which node the lab runs: kwok (fast, no containers) or real (a kubelet on containerd in the lab's network namespace).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from './common.ts';

export const flavours = ['kwok', 'real'] as const;
export type Flavour = (typeof flavours)[number];

/** Written by lab:up: what lab:status and lab:down find running. */
export const flavourFile = path.join(stateDir, 'flavour');

const isFlavour = (v: string): v is Flavour => (flavours as readonly string[]).includes(v);

/** lab:up's arguments: which node, and whether to replace a lab that is up (or left) instead of reusing it. */
export interface UpOptions {
  flavour: Flavour;
  fresh: boolean;
}

/** `--node=kwok|real` (or `--node real`; kwok when absent) and `--fresh`. Anything else is a usage error. */
export function parseUpArgs(argv: string[]): UpOptions {
  let value: string | undefined;
  let fresh = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--node') {
      value = argv[++i];
      if (value === undefined) throw new Error(`--node takes ${flavours.join(' or ')}`);
    } else if (a.startsWith('--node=')) value = a.slice('--node='.length);
    else if (a === '--fresh') fresh = true;
    else throw new Error(`unknown argument ${JSON.stringify(a)} (usage: lab:up [-- --node=${flavours.join('|')}] [--fresh])`);
  }
  if (value !== undefined && !isFlavour(value))
    throw new Error(`--node takes ${flavours.join(' or ')}, not ${JSON.stringify(value)}`);
  return { flavour: value ?? 'kwok', fresh };
}

/** The flavour alone (lab:status and the tests). */
export const parseFlavour = (argv: string[]): Flavour => parseUpArgs(argv).flavour;

/** The running lab's flavour (kwok for a lab started before flavours existed). */
export const runningFlavour = (): Flavour => {
  const v = existsSync(flavourFile) ? readFileSync(flavourFile, 'utf8').trim() : 'kwok';
  return isFlavour(v) ? v : 'kwok';
};
