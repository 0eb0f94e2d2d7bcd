/** Rejects with `message` if `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `step` until it succeeds, backing off up to 5 s between tries. For
 * start-up work that must eventually happen (indexes, the admin account) even
 * when a data service comes up after the process.
 */
export async function retryUntilDone(
  step: () => Promise<void>,
  onRetry: (error: Error, delayMs: number) => void,
  signal?: AbortSignal,
) {
  let delay = 250;
  for (;;) {
    try {
      await step();
      return;
    } catch (error) {
      if (signal?.aborted) throw error;
      onRetry(error as Error, delay);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
