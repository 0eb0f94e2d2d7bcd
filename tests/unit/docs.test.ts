import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/env.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('every configuration variable is documented', () => {
  it.each(CONFIG_VARIABLES)('%s is in .env.example and the README table', (name) => {
    expect(read('.env.example')).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    expect(read('README.md')).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'));
  });
});
