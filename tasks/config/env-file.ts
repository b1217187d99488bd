// The .env file, read strictly: dotenv skips lines it cannot parse, which would silently lose a setting.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { UsageError } from '../lib/base/errors.ts';
import { type Env, settings } from './settings.ts';

/** Every KEY=VALUE of `file` ({} when there is none); a UsageError names each bad line. */
export function readEnvFile(file: string): Env {
  if (!existsSync(file)) return {};
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  let openQuote: string | undefined;
  const firstLine = new Map<string, number>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (openQuote) {
      if (line.includes(openQuote)) openQuote = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) {
      problems.push(`${path.basename(file)} line ${i + 1} is not KEY=VALUE: ${JSON.stringify(trimmed.slice(0, 60))}`);
      return;
    }
    const [, key, value] = m;
    const q = value[0];
    if ((q === '"' || q === "'" || q === '`') && !value.slice(1).includes(q)) openQuote = q;
    const seen = firstLine.get(key);
    if (seen) problems.push(`${path.basename(file)} line ${i + 1} sets ${key} again (first on line ${seen}): keep one`);
    else firstLine.set(key, i + 1);
    if (!(key in settings))
      problems.push(`${path.basename(file)} line ${i + 1}: unknown setting ${key} (known: ${Object.keys(settings).join(', ')})`);
  });
  if (openQuote) problems.push(`${path.basename(file)}: a quoted value is never closed`);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return parseDotenv(text);
}
