import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from '../run/types.ts';

/** Whether the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
}

/** Lets each chapter script run ad hoc (`npx tsx tasks/<chapter>.ts [options]`) through the one runner. */
export function runIfMain(moduleUrl: string, command: Command): void {
  if (!isMain(moduleUrl)) return;
  void import('./runner.ts').then(async ({ run }) => {
    process.exitCode = await run([command], [command.name, ...process.argv.slice(2)]);
  });
}
