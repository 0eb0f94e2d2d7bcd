#!/usr/bin/env node
// Installs what `npm start` and `npm test` need, so a fresh clone needs nothing
// else: the npm packages (npm ci) and the FerretDB binary (built from its Go
// module). Plain JavaScript because it runs before node_modules exists.
//
//   node scripts/setup.mjs start   FerretDB only when MONGODB_URI is unset
//   node scripts/setup.mjs test    always FerretDB: the tests start their own
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'start';
const say = (message) => process.stderr.write(`[setup] ${message}\n`);
const fail = (message) => {
  process.stderr.write(`[setup] ERROR: ${message}\n`);
  process.exit(1);
};

function ensureNpmPackages() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm packages (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('npm ci failed; see its output above (is the npm registry reachable?)');
}

function findGo() {
  const candidates = [
    'go',
    '/usr/local/go/bin/go',
    '/usr/lib/go/bin/go',
    join(process.env.HOME ?? '', 'go', 'bin', 'go'),
  ];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

async function ensureFerretDB() {
  const source = join(root, 'tools', 'ferretdb');
  const binary = join(root, '.tools', 'ferretdb');
  const stampFile = `${binary}.stamp`;
  // Rebuilt whenever the launcher's sources change.
  const sources = readdirSync(source)
    .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
    .sort();
  const stamp = createHash('sha256')
    .update(sources.map((f) => `${f}\0${readFileSync(join(source, f), 'utf8')}`).join('\0'))
    .digest('hex');
  if (existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;

  const go = findGo();
  if (!go) {
    fail(
      'FerretDB is built from its Go module, and no Go toolchain was found (looked for `go` on PATH and in /usr/local/go/bin). ' +
        'Install Go 1.22+, or set MONGODB_URI to an existing MongoDB to run without FerretDB.',
    );
  }
  say('building FerretDB 1.24.2 from its Go module (first run only; 1-3 minutes)…');
  mkdirSync(dirname(binary), { recursive: true });
  const started = Date.now();
  const ticker = setInterval(() => say(`  still building… ${Math.round((Date.now() - started) / 1000)} s`), 15_000);
  // Asynchronous so the progress ticker can run while Go compiles.
  const status = await new Promise((resolve) => {
    const child = spawn(go, ['build', '-o', `${binary}.tmp`, '.'], { cwd: source, stdio: 'inherit' });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code));
  });
  clearInterval(ticker);
  if (status !== 0) {
    fail(
      '`go build` of FerretDB failed; see its output above (is the Go module proxy reachable? try `go env GOPROXY`)',
    );
  }
  renameSync(`${binary}.tmp`, binary);
  writeFileSync(stampFile, stamp);
  say(`FerretDB built in ${Math.round((Date.now() - started) / 1000)} s: .tools/ferretdb`);
}

function mongoUriConfigured() {
  if (process.env.MONGODB_URI) return true;
  const envFile = join(root, '.env');
  return existsSync(envFile) && /^\s*MONGODB_URI\s*=\s*\S/m.test(readFileSync(envFile, 'utf8'));
}

ensureNpmPackages();
if (mode === 'test' || !mongoUriConfigured()) await ensureFerretDB();
