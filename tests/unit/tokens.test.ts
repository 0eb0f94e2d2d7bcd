import { describe, expect, it } from 'vitest';
import { TokenService } from '../../src/lib/tokens.js';

const claims = { id: 'a'.repeat(24), role: 'seller' as const, name: 'Asha', generation: 3 };

describe('TokenService', () => {
  it('verifies a token again from what it verified before, and a copy each time', async () => {
    const tokens = new TokenService('unit-secret-unit-secret-unit-secret-12', '1h');
    const token = await tokens.sign(claims);
    const first = await tokens.verify(token);
    expect(first).toEqual(claims);
    first.name = 'changed by a caller';
    expect(await tokens.verify(token)).toEqual(claims);
  });

  it('refuses a token changed by one character after the original was verified', async () => {
    const tokens = new TokenService('unit-secret-unit-secret-unit-secret-12', '1h');
    const token = await tokens.sign(claims);
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.');
    const flipped = signature!.startsWith('A') ? `B${signature!.slice(1)}` : `A${signature!.slice(1)}`;
    await expect(tokens.verify(`${header}.${payload}.${flipped}`)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a verified token once it has expired', async () => {
    const tokens = new TokenService('unit-secret-unit-secret-unit-secret-12', '1s');
    const token = await tokens.sign(claims);
    await tokens.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expect(tokens.verify(token)).rejects.toMatchObject({ status: 401 });
  });
});
