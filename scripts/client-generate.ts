/**
 * `npm run client:generate`: regenerates the typed client's generated files
 * (packages/client/src/schema.d.ts and lib/) from the API as it is now.
 * `npm run client:check` (`--check`): writes nothing, and exits 1 naming the
 * files that differ from what the API would generate.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkedInClientFiles, CLIENT_DIR, generateClientFiles, staleClientFiles } from './client-files.js';

const say = (message: string) => process.stderr.write(`[client] ${message}\n`);
const check = process.argv.includes('--check');

const fresh = await generateClientFiles();
const current = checkedInClientFiles();
const stale = staleClientFiles(fresh, current);

if (check) {
  if (stale.length > 0) {
    say(`the typed client is out of date with the API:\n  ${stale.join('\n  ')}`);
    say('run `npm run client:generate` and commit what it changes');
    process.exit(1);
  }
  say(`up to date (${fresh.size} generated files)`);
} else {
  for (const path of current.keys()) if (!fresh.has(path)) rmSync(join(CLIENT_DIR, path));
  for (const [path, text] of fresh) {
    mkdirSync(dirname(join(CLIENT_DIR, path)), { recursive: true });
    writeFileSync(join(CLIENT_DIR, path), text);
  }
  say(stale.length > 0 ? `regenerated:\n  ${stale.join('\n  ')}` : `nothing changed (${fresh.size} files)`);
}
