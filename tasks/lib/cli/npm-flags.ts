// `npm run all --dry-run` (without `--`) never reaches the tool: npm takes the flag for itself and only says so in
// the environment (npm_config_dry_run=true). The safe reading: a flag that makes a run do less is honoured; one
// that makes it do more without asking (--yes) is not.
import type { Env } from '../../config/settings.ts';
import { type FlagName, flags, type Options } from '../run/flags.ts';

/** Flags that npm took for itself, when running under `npm run`. */
export function npmTookFlags(env: Env): FlagName[] {
  if (!env.npm_lifecycle_event) return [];
  return (Object.keys(flags) as FlagName[]).filter((f) => env[`npm_config_${f.replace(/-/g, '_')}`] === 'true');
}

/** Only these are safe to honour: each makes the run change less. */
const honoured: Partial<Record<FlagName, keyof Options>> = {
  'dry-run': 'dryRun',
  'keep-cluster': 'keepCluster',
  'keep-sample': 'keepSample',
};

/** The options with npm's swallowed flags applied (those the command takes), and a note for each. */
export function withNpmFlags(
  options: Options,
  taken: FlagName[],
  command: { name: string; flags?: readonly string[] },
): { options: Options; notes: string[] } {
  const out = { ...options };
  const notes: string[] = [];
  const usage = (f: FlagName) => `npm run ${command.name} -- --${f}`;
  for (const f of taken) {
    const option = honoured[f];
    const applies = f === 'dry-run' || command.flags?.includes(f);
    if (option && applies) {
      out[option] = true;
      notes.push(`note: npm took --${f} for itself; running as if it were given here (${usage(f)} says it plainly)`);
    } else if (f === 'yes') notes.push(`note: npm took --yes for itself; it answers nothing here (${usage('yes')})`);
  }
  return { options: out, notes };
}
