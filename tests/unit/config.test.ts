import { describe, expect, it } from 'vitest';
import { ConfigError, defaults, parseConfig } from '../../src/env.js';

const errorsOf = (raw: Record<string, string>) => {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
  return [];
};

describe('configuration', () => {
  it('defaults serve the embedded mode', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      MONGODB_URI: 'mongodb://127.0.0.1:27017/orders',
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_EXPIRES_IN: '7d',
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: defaults.DEV_ADMIN_PASSWORD,
      CURRENCY: 'INR',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ PORT: '' }).PORT).toBe(3000);
  });

  it('production bootstraps no admin unless told, and needs a real secret', () => {
    const secret = 'x'.repeat(40);
    expect(parseConfig({ NODE_ENV: 'production', JWT_SECRET: secret }).ADMIN_PASSWORD).toBeUndefined();
    expect(errorsOf({ NODE_ENV: 'production' })[0]).toMatch(/^JWT_SECRET: expected a secret of at least 32 characters/);
  });

  it('names every bad variable once, hiding secrets', () => {
    const lines = errorsOf({ PORT: '70000', JWT_EXPIRES_IN: 'forever', CURRENCY: 'rupees', ADMIN_PASSWORD: 'short' });
    expect(lines).toEqual([
      'PORT: expected a port number (0-65535), got "70000"',
      'JWT_EXPIRES_IN: expected a duration such as 3600s, 30m, 12h or 7d, got "forever"',
      'ADMIN_PASSWORD: expected at least 8 characters, got (hidden)',
      'CURRENCY: expected an ISO 4217 code such as INR or USD, got "rupees"',
    ]);
  });

  it('requires a database name in MONGODB_URI', () => {
    expect(errorsOf({ MONGODB_URI: 'mongodb://localhost:27017' })[0]).toMatch(/^MONGODB_URI: expected a database name/);
    expect(parseConfig({ MONGODB_URI: 'mongodb://a:1,b:2/orders?replicaSet=rs0' }).MONGODB_URI).toContain('rs0');
  });
});
