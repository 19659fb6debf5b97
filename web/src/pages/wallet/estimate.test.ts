import { describe, expect, it } from 'vitest';
import { estimateTotal, priceRoute, valueIn } from './estimate';

const markets = [
  { id: 'btcusdt', base_unit: 'btc', quote_unit: 'usdt' },
  { id: 'ethbtc', base_unit: 'eth', quote_unit: 'btc' },
  { id: 'usdtusd', base_unit: 'usdt', quote_unit: 'usd' },
];

describe('priceRoute', () => {
  it('prefers the direct market, else inverts the other way round', () => {
    expect(priceRoute('btc', 'usdt', markets)).toEqual({ market: 'btcusdt', inverted: false });
    expect(priceRoute('usd', 'usdt', markets)).toEqual({ market: 'usdtusd', inverted: true });
    expect(priceRoute('eth', 'usdt', markets)).toBeNull();
  });
});

describe('valueIn', () => {
  it('multiplies by the last price, or divides by the inverse one', () => {
    expect(valueIn('2.5', 'btc', 'usdt', markets, { btcusdt: '40000.01' })).toBe('100000.025');
    expect(valueIn('3', 'usd', 'usdt', markets, { usdtusd: '1.5' })).toBe('2');
    expect(valueIn('7', 'usdt', 'usdt', markets, {})).toBe('7');
  });
  it('has no price without a trade', () => {
    expect(valueIn('1', 'btc', 'usdt', markets, { btcusdt: '0' })).toBeNull();
    expect(valueIn('1', 'btc', 'usdt', markets, {})).toBeNull();
  });
});

describe('estimateTotal', () => {
  it('sums priced holdings exactly and names the others', () => {
    const found = estimateTotal(
      [
        { currency: 'btc', total: '0.1' },
        { currency: 'usdt', total: '0.2' },
        { currency: 'eth', total: '5' },
        { currency: 'usd', total: '0' },
      ],
      'usdt',
      markets,
      { btcusdt: '3' },
    );
    expect(found).toEqual({ total: '0.5', unpriced: ['eth'] });
  });
});
