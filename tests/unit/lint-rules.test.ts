import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run lint` must fail on an import cycle among the project's own modules.
 * The resolver only follows imports to files that exist, so the fixtures are
 * real files in a temporary folder under src/, linted with the project's own
 * eslint.config.js and removed afterwards.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;

/** Writes `files` into a fresh folder under the temporary one; returns their paths. */
function fixture(name: string, files: Record<string, string>): string[] {
  const folder = join(dir, name);
  mkdirSync(folder);
  return Object.entries(files).map(([file, text]) => {
    const path = join(folder, file);
    writeFileSync(path, text);
    return path;
  });
}

async function cycleMessages(paths: string[]) {
  // A fresh ESLint per case, so no resolver or module cache carries over.
  const results = await new ESLint({ cwd: root }).lintFiles(paths);
  expect(results.map((r) => r.filePath).sort()).toEqual([...paths].sort());
  for (const result of results) {
    expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  }
  return results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'import-x/no-cycle'));
}

describe('lint rules', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(root, 'src', '.lint-cycle-'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports two modules that import each other', async () => {
    const paths = fixture('cycle', {
      'a.ts': "import { b } from './b.js';\n\nexport const a = (): number => b() + 1;\n",
      'b.ts': "import { a } from './a.js';\n\nexport const b = (): number => 1;\nexport const c = (): number => a();\n",
    });
    const messages = await cycleMessages(paths);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages[0]).toMatchObject({ ruleId: 'import-x/no-cycle', severity: 2 });
  });

  it('reports nothing without the import back', async () => {
    const paths = fixture('no-cycle', {
      'a.ts': "import { b } from './b.js';\n\nexport const a = (): number => b() + 1;\n",
      'b.ts': 'export const b = (): number => 1;\n',
    });
    expect(await cycleMessages(paths)).toEqual([]);
  });

  it('ignores an import back that is type-only', async () => {
    const paths = fixture('type-only', {
      'a.ts': "import { b } from './b.js';\n\nexport type A = number;\nexport const a = (): A => b() + 1;\n",
      'b.ts': "import type { A } from './a.js';\n\nexport const b = (): A => 1;\n",
    });
    expect(await cycleMessages(paths)).toEqual([]);
  });
});
