import { describe, expect, it } from 'vitest';
import { candleOf, candlesOf } from './periods';

describe('k-line rows', () => {
  it('reads rows of six numbers, oldest first, skipping bad rows', () => {
    expect(
      candlesOf([[120, 2, 3, 1, 2.5, 10], [60, 1, 2, 0.5, 1.5, 4], [180, 'x', 1, 1, 1, 1], 'nonsense']),
    ).toEqual([
      [60, 1, 2, 0.5, 1.5, 4],
      [120, 2, 3, 1, 2.5, 10],
    ]);
  });

  it('reads a stream candle', () => {
    expect(candleOf([60, 1, 2, 0.5, 1.5, 4])).toEqual([60, 1, 2, 0.5, 1.5, 4]);
    expect(candleOf([60, 1, 2])).toBeNull();
  });
});
