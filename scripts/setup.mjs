#!/usr/bin/env node
// Installs what `npm start` and `npm test` need, so a fresh clone needs nothing
// else: the npm packages (npm ci) and the FerretDB binary (built from its Go
// module). Plain JavaScript because it runs before node_modules exists.
//
//   node scripts/setup.mjs start   FerretDB only when MONGODB_URI is unset
//   node scripts/setup.mjs test    always FerretDB: the tests start their own; and chromium
// Both build the web app (web/ → web/dist) when it is missing or older than its sources.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'start';
const say = (message) => process.stderr.write(`[setup] ${message}\n`);
const fail = (message) => {
  process.stderr.write(`[setup] ERROR: ${message}\n`);
  process.exit(1);
};

/**
 * Runs a step that downloads, up to three times, 10 s apart: a registry or
 * mirror that fails once on a fresh machine should not fail the set-up.
 * Answers whether it succeeded.
 */
function withRetries(what, command, args, options) {
  for (let attempt = 1; ; attempt++) {
    if (spawnSync(command, args, { stdio: 'inherit', ...options }).status === 0) return true;
    if (attempt === 3) return false;
    say(`${what} failed (attempt ${attempt}); trying again in 10 s…`);
    spawnSync('sleep', ['10']);
  }
}

function ensureNpmPackages() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  say(
    existsSync(installed)
      ? 'package-lock.json changed since node_modules was installed: reinstalling with npm ci (it replaces node_modules)…'
      : 'installing npm packages (npm ci)…',
  );
  if (!withRetries('npm ci', 'npm', ['ci', '--no-audit', '--no-fund'], { cwd: root }))
    fail('npm ci failed; see its output above (is the npm registry reachable?)');
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
  // Rebuilt whenever the launcher's sources change (overlay/ included).
  const sources = [...readdirSync(source), ...readdirSync(join(source, 'overlay')).map((f) => join('overlay', f))]
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
  const buildDir = join(dirname(binary), 'ferretdb-build');
  prepareBuildDir(go, source, buildDir);
  // Asynchronous so the progress ticker can run while Go compiles.
  const status = await new Promise((resolve) => {
    const child = spawn(go, ['build', '-mod=vendor', '-o', `${binary}.tmp`, '.'], {
      cwd: buildDir,
      stdio: 'inherit',
    });
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
  // The vendored sources (~230 MB) are not needed once built; Go's build cache keeps what a rebuild reuses.
  rmSync(buildDir, { recursive: true, force: true });
  writeFileSync(stampFile, stamp);
  say(`FerretDB built in ${Math.round((Date.now() - started) / 1000)} s: .tools/ferretdb`);
}

/**
 * A copy of the launcher with its dependencies vendored, and the files in
 * tools/ferretdb/overlay/ put over FerretDB's own (each says which and why).
 * Go refuses to build changed files inside its module cache, so the build runs
 * from this copy, with `-mod=vendor`.
 */
function prepareBuildDir(go, source, buildDir) {
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  for (const file of readdirSync(source)) {
    if (file.endsWith('.go') || file === 'go.mod' || file === 'go.sum')
      copyFileSync(join(source, file), join(buildDir, file));
  }
  if (!withRetries('go mod vendor', go, ['mod', 'vendor'], { cwd: buildDir })) {
    fail(
      '`go mod vendor` of FerretDB failed; see its output above (is the Go module proxy reachable? try `go env GOPROXY`)',
    );
  }
  const replacements = {
    'resource.go': 'github.com/FerretDB/FerretDB/internal/util/resource/resource.go',
    'fsql-db.go': 'github.com/FerretDB/FerretDB/internal/util/fsql/db.go',
    'sqlite-opendb.go': 'github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata/pool/opendb.go',
  };
  for (const [file, target] of Object.entries(replacements)) {
    copyFileSync(join(source, 'overlay', file), join(buildDir, 'vendor', target));
  }
}

function mongoUriConfigured() {
  if (process.env.MONGODB_URI) return true;
  const envFile = join(root, '.env');
  return existsSync(envFile) && /^\s*MONGODB_URI\s*=\s*\S/m.test(readFileSync(envFile, 'utf8'));
}

/**
 * The tests render pages in Debian's chromium (playwright-core cannot download
 * browsers here). Installed when missing and we may (root, apt-get); otherwise
 * the browser tests fail with a message saying how to install it.
 */
function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' });
  if (process.getuid?.() !== 0 || apt.status !== 0) {
    say('chromium is not installed: the browser tests will fail (install it with `apt-get install -y chromium`)');
    return;
  }
  say('installing chromium for the browser tests (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for a lock another apt holds (a fresh machine's apt may be busy).
  const aptGet = ['-o', 'DPkg::Lock::Timeout=300'];
  if (
    withRetries('apt-get update', 'apt-get', [...aptGet, 'update', '-qq'], { env }) &&
    withRetries('apt-get install', 'apt-get', [...aptGet, 'install', '-y', '-qq', 'chromium'], { env })
  )
    return;
  say('could not install chromium; the browser tests will fail');
}

/**
 * The browser app the API serves at /app/ (web/): built with Vite into
 * web/dist when that is missing or older than any of its sources. Production
 * builds it with `npm run build` instead.
 */
function ensureWebApp() {
  const web = join(root, 'web');
  const built = join(web, 'dist', 'index.html');
  const newest = (path) => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((f) => join(web, f)).filter(existsSync);
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) return;
  say('building the web app (web/ → web/dist)…');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', web], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('building the web app failed; see the output above');
}

ensureNpmPackages();
ensureWebApp();
if (mode === 'test' || !mongoUriConfigured()) await ensureFerretDB();
if (mode === 'test') ensureChromium();
