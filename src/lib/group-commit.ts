/**
 * Group commit: callers hand in items and wait for their own outcome; the
 * first item is run as soon as the current task is done (so the items one
 * caller hands in together, such as a batch job's orders, run together), and
 * the items that arrive while a run is going on go together into the next one. No timer: at low load a batch is one item and
 * adds no latency; under load a batch holds what arrived during one run (up to
 * `maxBatch`), so the database sees one command where it would have seen many.
 * Written here because it is a dozen lines, and the libraries that batch
 * (dataloader, p-batch) close batches on a tick or a timer instead.
 *
 * `run` answers one outcome per item, in order, so one item's failure is its
 * own; if `run` itself throws, every item of the batch fails with it.
 *
 * Up to `inFlight` runs go on at once, each taking what has arrived when it
 * starts: for runs whose stages wait on different things, so that one batch's
 * last stage overlaps the next one's first.
 */
export function batched<T, R>(
  run: (items: T[]) => Promise<Array<PromiseSettledResult<R>>>,
  maxBatch: number,
  inFlight = 1,
): (item: T) => Promise<R> {
  type Entry = { item: T; resolve: (value: R) => void; reject: (error: unknown) => void };
  let pending: Entry[] = [];
  let running = 0;

  /** Runs batches while items wait; its slot in `running` was taken by whoever started it. */
  async function drain() {
    while (pending.length) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(maxBatch);
      try {
        const outcomes = await run(batch.map((entry) => entry.item));
        batch.forEach((entry, i) => {
          const outcome = outcomes[i];
          if (outcome?.status === 'fulfilled') entry.resolve(outcome.value);
          else entry.reject(outcome ? outcome.reason : new Error('batch returned no outcome for this item'));
        });
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    running--;
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (running < inFlight) {
        running++;
        queueMicrotask(() => void drain());
      }
    });
}

/** `batched` for writes that succeed or fail as a whole. */
export function groupCommit<T>(write: (items: T[]) => Promise<void>, maxBatch: number): (item: T) => Promise<void> {
  return batched<T, void>(async (items) => {
    await write(items);
    return items.map(() => ({ status: 'fulfilled', value: undefined }));
  }, maxBatch);
}
