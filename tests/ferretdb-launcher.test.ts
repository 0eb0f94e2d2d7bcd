import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The launcher's FerretDB (tools/ferretdb), the one every test and `npm start` use.
let client: MongoClient;
beforeAll(async () => {
  client = new MongoClient(inject('mongoServer'), { maxPoolSize: 20 });
  await client.connect();
});
afterAll(async () => {
  await client?.close();
});

describe('the FerretDB launcher', () => {
  it('finishes four update commands of 90 statements at once (FerretDB 1.24 with 100 connections hung on them)', async () => {
    const docs = client.db(`launcher_${Date.now()}`).collection<{ _id: string; v: number }>('docs');
    await docs.insertMany(Array.from({ length: 360 }, (_, i) => ({ _id: `d${i}`, v: 0 })));
    const command = (k: number) =>
      docs.bulkWrite(
        Array.from({ length: 90 }, (_, i) => ({
          updateOne: { filter: { _id: `d${k * 90 + i}` }, update: { $set: { v: k + 1 } } },
        })),
        { ordered: false },
      );
    // A hang fails the test by its timeout.
    const results = await Promise.all([0, 1, 2, 3].map(command));
    expect(results.map((r) => r.modifiedCount)).toEqual([90, 90, 90, 90]);
    expect(await docs.countDocuments({ v: 0 })).toBe(0);
  });

  it('finishes one update command of 100 statements', async () => {
    const docs = client.db(`launcher_${Date.now()}_one`).collection<{ _id: string; v: number }>('docs');
    await docs.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, v: 0 })));
    const result = await docs.bulkWrite(
      Array.from({ length: 100 }, (_, i) => ({ updateOne: { filter: { _id: `d${i}` }, update: { $set: { v: 1 } } } })),
      { ordered: false },
    );
    expect(result.modifiedCount).toBe(100);
  });
});
