import { describe, expect, it } from 'vitest';
import { matchesSearch } from './search';

const btc = { id: 'btcusdt', name: 'BTC/USDT', base_unit: 'btc', quote_unit: 'usdt' };

describe('matchesSearch', () => {
  it('matches by name in any case, with or without the slash', () => {
    expect(matchesSearch(btc, '')).toBe(true);
    expect(matchesSearch(btc, 'btc')).toBe(true);
    expect(matchesSearch(btc, 'BTC/US')).toBe(true);
    expect(matchesSearch(btc, ' btcusdt ')).toBe(true);
    expect(matchesSearch(btc, 'usdt')).toBe(true);
    expect(matchesSearch(btc, 'eth')).toBe(false);
  });
});
