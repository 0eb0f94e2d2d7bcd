import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/embedded-services.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs one of the project's entry points as a real process, as production does (a `.js` one: compiled, without tsx). */
export function runEntry(entry: string, env: Record<string, string>, nodeArgs: string[] = []): RunningProcess {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry], {
    cwd: ROOT,
    // Only what the test names, plus PATH: the developer's own variables must not leak in.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Runs the API as a process of its own (one a test can kill) on a free port, and waits until it is ready. */
export async function startApiProcess(env: Record<string, string>): Promise<{ process: RunningProcess; url: string }> {
  const port = await freePort();
  const api = runEntry('src/index.ts', { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (!(await fetch(`${url}/readyz`)).ok) throw new Error('not ready');
    }, 30_000);
  } catch (error) {
    await api.stop('SIGKILL');
    throw error;
  }
  return { process: api, url };
}
