import { describe, expect, it } from 'vitest';
import { formatNumber } from './formatNumber';

describe('formatNumber', () => {
  it('pads and cuts to the precision', () => {
    expect(formatNumber('1.5', 4)).toBe('1.5000');
    expect(formatNumber('1.23456', 2)).toBe('1.23');
    expect(formatNumber('42', 0)).toBe('42');
    expect(formatNumber('.5', 1)).toBe('0.5');
    expect(formatNumber('7.', 2)).toBe('7.00');
  });

  it('rounds half up (away from zero)', () => {
    expect(formatNumber('1.005', 2)).toBe('1.01');
    expect(formatNumber('1.0049999', 2)).toBe('1.00');
    expect(formatNumber('0.5', 0)).toBe('1');
    expect(formatNumber('0.4', 0)).toBe('0');
    expect(formatNumber('9.995', 2)).toBe('10.00');
    expect(formatNumber('999.9999', 3)).toBe('1000.000');
    expect(formatNumber('-1.005', 2)).toBe('-1.01');
    expect(formatNumber('-2.5', 0)).toBe('-3');
  });

  it('keeps every digit beyond 2^53', () => {
    expect(formatNumber('9007199254740993', 0)).toBe('9007199254740993');
    expect(formatNumber('123456789012345678901234567890.123456789', 8)).toBe(
      '123456789012345678901234567890.12345679',
    );
    expect(formatNumber('99999999999999999999.995', 2)).toBe('100000000000000000000.00');
    expect(formatNumber('0.000000000000000001', 18)).toBe('0.000000000000000001');
  });

  it('formats zero', () => {
    expect(formatNumber('0', 2)).toBe('0.00');
    expect(formatNumber('0', 0)).toBe('0');
    expect(formatNumber('0.0000', 3)).toBe('0.000');
    expect(formatNumber('-0', 2)).toBe('0.00');
    expect(formatNumber('-0.001', 2)).toBe('0.00');
  });

  it('formats negative numbers', () => {
    expect(formatNumber('-1234.5', 2)).toBe('-1234.50');
    expect(formatNumber('-0.006', 2)).toBe('-0.01');
    expect(formatNumber('+3.19', 1)).toBe('3.2');
  });

  it('reads exponent notation', () => {
    expect(formatNumber('1E+2', 1)).toBe('100.0');
    expect(formatNumber('1.5e-8', 9)).toBe('0.000000015');
    expect(formatNumber('0E-18', 2)).toBe('0.00');
  });

  it('groups thousands and uses the decimal mark asked for', () => {
    expect(formatNumber('1234567.891', 2, { group: ',', decimal: '.' })).toBe('1,234,567.89');
    expect(formatNumber('-1234567.891', 2, { group: '\u202f', decimal: ',' })).toBe(
      '-1\u202f234\u202f567,89',
    );
    expect(formatNumber('999', 0, { group: ',' })).toBe('999');
  });

  it('returns what is not a decimal unchanged', () => {
    expect(formatNumber('', 2)).toBe('');
    expect(formatNumber('abc', 2)).toBe('abc');
    expect(formatNumber('1.2.3', 2)).toBe('1.2.3');
    expect(formatNumber('-', 2)).toBe('-');
  });
});
