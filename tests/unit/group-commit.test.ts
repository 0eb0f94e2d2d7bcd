import { describe, expect, it } from 'vitest';
import { batched } from '../../src/lib/group-commit.js';

/** A batcher whose runs wait until released, recording what each run took and how many ran at once. */
function gated(inFlight: number) {
  const runs: number[][] = [];
  const releases: Array<() => void> = [];
  let running = 0;
  let most = 0;
  const add = batched<number, number>(
    async (items) => {
      runs.push(items);
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return items.map((item) => ({ status: 'fulfilled', value: item * 10 }));
    },
    100,
    inFlight,
  );
  return { add, runs, releases, most: () => most };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('batched', () => {
  it('with one run in flight, what arrives meanwhile goes into the next run', async () => {
    const { add, runs, releases, most } = gated(1);
    const first = add(1);
    await tick();
    const rest = [add(2), add(3)];
    await tick();
    expect(runs).toEqual([[1]]);
    releases.shift()!();
    await tick();
    expect(runs).toEqual([[1], [2, 3]]);
    releases.shift()!();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30]);
    expect(most()).toBe(1);
  });

  it('with two in flight, a second run starts while the first goes on, and the rest wait for either', async () => {
    const { add, runs, releases, most } = gated(2);
    const all = [add(1)];
    await tick();
    all.push(add(2));
    await tick();
    all.push(add(3), add(4));
    await tick();
    expect(runs).toEqual([[1], [2]]);
    releases.shift()!();
    await tick();
    expect(runs).toEqual([[1], [2], [3, 4]]);
    while (releases.length) releases.shift()!();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40]);
    expect(most()).toBe(2);
  });

  it("items handed in together (a batch job's orders) run together, even with runs to spare", async () => {
    const { add, runs, releases } = gated(2);
    const all = [1, 2, 3, 4, 5].map((n) => add(n));
    await tick();
    expect(runs).toEqual([[1, 2, 3, 4, 5]]);
    releases.shift()!();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
  });
});
