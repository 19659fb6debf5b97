import { describe, expect, it } from 'vitest';
import { feesFor, type FeeEntry } from './fees';

const entry = (market_id: string, group: string, maker: string, taker: string): FeeEntry => ({
  market_id,
  group,
  maker,
  taker,
});

describe('feesFor', () => {
  const schedule = [
    entry('btcusdt', 'any', '0.001', '0.002'),
    entry('ethusdt', 'any', '0.001', '0.002'),
    entry('any', 'vip-1', '0.0008', '0.0015'),
    entry('btcusdt', 'vip-2', '0', '0.001'),
  ];

  it('takes the market’s own fees for the default group', () => {
    expect(feesFor(schedule, 'btcusdt', 'vip-0')).toEqual({ maker: '0.001', taker: '0.002' });
  });

  it('prefers the group over the market', () => {
    expect(feesFor(schedule, 'btcusdt', 'vip-1')).toEqual({ maker: '0.0008', taker: '0.0015' });
  });

  it('prefers market and group over the group alone', () => {
    expect(feesFor([...schedule, entry('any', 'vip-2', '0.1', '0.1')], 'btcusdt', 'vip-2')).toEqual({
      maker: '0',
      taker: '0.001',
    });
  });

  it('falls back to any market and any group', () => {
    expect(feesFor([entry('any', 'any', '0.003', '0.004')], 'ethbtc', 'vip-0')).toEqual({
      maker: '0.003',
      taker: '0.004',
    });
    expect(feesFor(schedule, 'ethbtc', 'vip-0')).toBeUndefined();
  });
});
