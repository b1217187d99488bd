import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Lets each chapter script run ad hoc (`npx tsx tasks/<chapter>.ts [options]`) through the one runner. */
export function runIfMain(moduleUrl: string, command: string): void {
  const script = process.argv[1];
  if (!script || realpathSync(script) !== realpathSync(fileURLToPath(moduleUrl))) return;
  // Not awaited: the runner imports this chapter, so waiting here would be an import cycle.
  void import('../../Taskfile.ts').then((m) => m.main([command, ...process.argv.slice(2)]));
}
