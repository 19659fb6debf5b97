import { describe, expect, it } from 'vitest';
import { changeDirection, formatPercent } from './percent';

describe('changeDirection', () => {
  it('reads the sign of the change', () => {
    expect(changeDirection('+3.19%')).toBe('up');
    expect(changeDirection('-0.50%')).toBe('down');
    expect(changeDirection('+0.00%')).toBe('flat');
    expect(changeDirection('-0.00%')).toBe('flat');
    expect(changeDirection('')).toBe('flat');
  });
});

describe('formatPercent', () => {
  it('keeps the sign and two decimals', () => {
    expect(formatPercent('+3.19%')).toBe('+3.19%');
    expect(formatPercent('-0.5%')).toBe('-0.50%');
    expect(formatPercent('+0.00%')).toBe('0.00%');
  });
  it('uses the French decimal mark and space', () => {
    expect(formatPercent('+3.19%', { decimal: ',' })).toBe('+3,19\u202f%');
  });
  it('shows other text as sent', () => {
    expect(formatPercent('n/a')).toBe('n/a');
  });
});
