import { describe, expect, it } from 'vitest';
import {
  addDecimals,
  maxWithdrawable,
  parseAmount,
  remainingOf,
  trimZeros,
  withdrawFigures,
  withdrawProblems,
  type WithdrawRules,
} from './amounts';

describe('parseAmount', () => {
  it('reads plain decimals within the precision', () => {
    const found = parseAmount(' 0.12345678 ', 8);
    expect(found.ok && found.text).toBe('0.12345678');
  });
  it('takes a comma as the decimal mark', () => {
    const found = parseAmount('1,5', 2);
    expect(found.ok && found.text).toBe('1.5');
  });
  it('names each problem', () => {
    expect(parseAmount('', 8)).toEqual({ ok: false, problem: 'empty' });
    expect(parseAmount('1e3', 8)).toEqual({ ok: false, problem: 'invalid' });
    expect(parseAmount('-1', 8)).toEqual({ ok: false, problem: 'invalid' });
    expect(parseAmount('1.', 8)).toEqual({ ok: false, problem: 'invalid' });
    expect(parseAmount('0.001', 2)).toEqual({ ok: false, problem: 'tooPrecise' });
    expect(parseAmount('0.00', 2)).toEqual({ ok: false, problem: 'nonPositive' });
  });
});

describe('withdrawal figures', () => {
  it('adds the fee on top, exactly', () => {
    expect(withdrawFigures('0.1', '0.2')).toEqual({ receive: '0.1', total: '0.3' });
    expect(withdrawFigures('123456789012345678.000000000000000001', '0.0005').total).toBe(
      '123456789012345678.000500000000000001',
    );
  });
  it('keeps every digit of a long fraction', () => {
    expect(addDecimals('10.123456789012345678', '0.005')).toBe('10.128456789012345678');
  });
  it('finds the largest amount the balance pays with its fee, rounded down', () => {
    expect(maxWithdrawable('2.5', '0.0005', 8)).toBe('2.4995');
    expect(maxWithdrawable('1.005', '0.001', 2)).toBe('1');
    expect(maxWithdrawable('0.0004', '0.0005', 8)).toBe('0');
  });
});

describe('limits', () => {
  const rules: WithdrawRules = {
    fee: '0.0005',
    minimum: '0.001',
    available: '2.5',
    limit24h: '10',
    used24h: '9.5',
    limit72h: '0',
    used72h: '9.5',
  };
  it('says what is left, or none for a zero limit', () => {
    expect(remainingOf('10', '9.5')).toBe('0.5');
    expect(remainingOf('10', '12')).toBe('0');
    expect(remainingOf('0', '12')).toBeNull();
  });
  it('lists the refusals the server would answer', () => {
    const at = (text: string) => {
      const found = parseAmount(text, 8);
      if (!found.ok) throw new Error(text);
      return withdrawProblems(found.value, rules);
    };
    expect(at('0.5')).toEqual([]);
    expect(at('0.0009')).toEqual(['belowMinimum']);
    expect(at('0.6')).toEqual(['over24h']);
    expect(at('2.4996')).toEqual(['overBalance', 'over24h']);
  });
});

describe('trimZeros', () => {
  it('drops trailing fraction zeros past the kept decimals', () => {
    expect(trimZeros('1,234.50000000', '.')).toBe('1,234.50');
    expect(trimZeros('120 496,92495000', ',')).toBe('120 496,92495');
    expect(trimZeros('7', '.')).toBe('7');
    expect(trimZeros('7.000', '.', 0)).toBe('7');
  });
});
