import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Whether the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return Boolean(script) && realpathSync(script!) === realpathSync(fileURLToPath(moduleUrl));
}

/** Lets each chapter script run ad hoc (`npx tsx tasks/<chapter>.ts [options]`) through the one runner. */
export function runIfMain(moduleUrl: string, command: string): void {
  if (!isMain(moduleUrl)) return;
  // Not awaited: the runner imports this chapter, so waiting here would be an import cycle.
  void import('../../Taskfile.ts').then((m) => m.main([command, ...process.argv.slice(2)]));
}
