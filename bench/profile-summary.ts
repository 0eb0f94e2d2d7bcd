/**
 * The functions that used the most CPU (share of busy samples; idle left out) in V8 profiles (`npm run bench -- --profile`
 * writes them), by self time, grouped by function and file:
 *
 *   npx tsx bench/profile-summary.ts .data/bench/profiles/api [--top 25] [--by package]
 *
 * `--by package` adds self time up per npm package (the project's own files by
 * folder, Node's internals and V8's entries such as the garbage collector as they are).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, by: { type: 'string', default: 'function' } },
  allowPositionals: true,
});
const dir = positionals[0] ?? '.data/bench/profiles/api';
const selfHits = new Map<string, number>();
let total = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    // Shares of the time the process was busy: waiting is not where CPU goes.
    if (!hits || functionName === '(idle)') continue;
    const where = url.replace(/^file:\/\//, '');
    const shortWhere = where.includes('node_modules')
      ? where.slice(where.lastIndexOf('node_modules/') + 13)
      : where.startsWith('/')
        ? relative(process.cwd(), where)
        : where;
    const key =
      values.by === 'package'
        ? packageOf(shortWhere, functionName)
        : `${functionName || '(anonymous)'} ${shortWhere}${shortWhere ? `:${lineNumber + 1}` : ''}`;
    selfHits.set(key, (selfHits.get(key) ?? 0) + hits);
    total += hits;
  }
}
const rows = [...selfHits].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
process.stdout.write('| self % | function |\n| --- | --- |\n');
for (const [key, hits] of rows) process.stdout.write(`| ${((hits / total) * 100).toFixed(1)} | \`${key}\` |\n`);

/** `bullmq`, `@hono/node-server`, `src/order-flow`, `node:internal`, or V8's own entry (`(garbage collector)`). */
function packageOf(where: string, functionName: string): string {
  if (!where) return functionName || '(native)';
  if (where.startsWith('node:')) return 'node:internal';
  const parts = where.split('/');
  if (!where.startsWith('/') && parts.length > 1 && !['src', 'workers', 'bench', 'tests'].includes(parts[0]!)) {
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return parts.slice(0, 2).join('/');
}
