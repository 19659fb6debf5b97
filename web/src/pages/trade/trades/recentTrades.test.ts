import { describe, expect, it } from 'vitest';
import { mergeTrades, type PublicTrade, streamTrades } from './recentTrades';

const trade = (tid: number): PublicTrade => ({ tid, takerType: 'buy', date: tid, price: '1', amount: '1' });

describe('recent trades', () => {
  it('reads the stream message, skipping malformed trades', () => {
    expect(
      streamTrades({
        trades: [
          { tid: 5, taker_type: 'sell', date: 1700000000, price: '30000.5', amount: '0.01' },
          { tid: 6, taker_type: 'buy', date: 1700000001, price: 30001, amount: '0.01' },
        ],
      }),
    ).toEqual([{ tid: 5, takerType: 'sell', date: 1700000000, price: '30000.5', amount: '0.01' }]);
    expect(streamTrades({})).toEqual([]);
  });

  it('merges newest first, each trade once, capped', () => {
    const merged = mergeTrades([trade(9), trade(8)], [trade(8), trade(7), trade(6)], 3);
    expect(merged.map((t) => t.tid)).toEqual([9, 8, 7]);
  });
});
