import { describe, expect, it } from 'vitest';
import { nextPath } from './next';

describe('nextPath', () => {
  it('keeps a path of this site', () => {
    expect(nextPath('?next=%2Fwallets%3Ftab%3Ddeposit')).toBe('/wallets?tab=deposit');
  });
  it('refuses other origins and falls back', () => {
    expect(nextPath('?next=https%3A%2F%2Fevil.example')).toBe('/');
    expect(nextPath('?next=%2F%2Fevil.example')).toBe('/');
    expect(nextPath('?next=%2F%5Cevil.example', '/profile')).toBe('/profile');
    expect(nextPath('')).toBe('/');
  });
});
