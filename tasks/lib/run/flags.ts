// Every command-line flag, once: its spelling, short form, help line and the option it sets.
import type { ParseArgsConfig } from 'node:util';

export const flags = {
  'dry-run': { option: 'dryRun', doc: 'print every command it would run on a fresh cluster; run and install nothing' },
  yes: { option: 'yes', short: 'y', doc: 'never prompt (answer yes)' },
  verbose: { option: 'verbose', short: 'v', doc: 'show every command and its output as it runs' },
  help: { option: 'help', short: 'h', doc: 'this help' },
  version: { option: 'version', doc: "print the tool's version and its pinned versions" },
  'keep-sample': { option: 'keepSample', doc: 'keep the sleep sample running afterwards', optional: true },
  open: { option: 'open', doc: 'also open the URL in the browser', optional: true },
  strict: { option: 'strict', doc: 'exit 1 on warnings and information too, not only errors', optional: true },
  'keep-routing': {
    option: 'keepRouting',
    doc: "keep the task's routing (or mTLS mode) afterwards instead of restoring the one before",
    optional: true,
  },
  'keep-cluster': {
    option: 'keepCluster',
    doc: 'keep the minikube cluster; remove only what the tool put in it',
    optional: true,
  },
} as const;

type Flags = typeof flags;
export type FlagName = keyof Flags;
/** Flags only some commands take (each command lists its own). */
export type OptionalFlag = { [K in FlagName]: Flags[K] extends { optional: true } ? K : never }[FlagName];
export type Options = { [K in Exclude<FlagName, 'help' | 'version'> as Flags[K]['option']]: boolean };

export const commonFlags = (Object.keys(flags) as FlagName[]).filter((f) => !('optional' in flags[f]));

/** node:util parseArgs options for every flag. */
export const parseArgsOptions = Object.fromEntries(
  Object.entries(flags).map(([name, f]) => [name, { type: 'boolean', ...('short' in f ? { short: f.short } : {}) }]),
) as NonNullable<ParseArgsConfig['options']>;

/** The Options a parsed command line sets. */
export function optionsFrom(values: Record<string, unknown>): Options {
  return Object.fromEntries(
    Object.entries(flags).flatMap(([name, f]) =>
      name === 'help' || name === 'version' ? [] : [[f.option, Boolean(values[name])]],
    ),
  ) as Options;
}

/** `--yes, -y` as help shows it. */
export const flagLabel = (name: FlagName): string => {
  const f = flags[name];
  return `--${name}${'short' in f ? `, -${f.short}` : ''}`;
};
