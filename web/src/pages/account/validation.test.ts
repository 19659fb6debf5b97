import { describe, expect, it } from 'vitest';
import {
  areasAtLevel,
  codeInput,
  groupSecret,
  isCountryCode,
  isPastDate,
  isSixDigits,
  looksLikeEmail,
  meetsPasswordRule,
  otpSecretOf,
  pageCount,
  passwordRule,
  passwordsMatch,
  readVerdict,
  scopeParam,
  secondsLeft,
  strengthPercent,
  totalOf,
  uploadProblem,
} from './validation';

describe('codes', () => {
  it('takes exactly six ASCII digits', () => {
    expect(isSixDigits('123456')).toBe(true);
    expect(isSixDigits('12345')).toBe(false);
    expect(isSixDigits('1234567')).toBe(false);
    expect(isSixDigits('12345a')).toBe(false);
    expect(isSixDigits('١٢٣٤٥٦')).toBe(false);
    expect(isSixDigits(' 123456')).toBe(false);
  });

  it('keeps the digits of what is typed or pasted', () => {
    expect(codeInput('123 456')).toBe('123456');
    expect(codeInput('12-34-56-78')).toBe('123456');
    expect(codeInput('abc')).toBe('');
  });
});

describe('passwords', () => {
  it('match only when filled in and equal', () => {
    expect(passwordsMatch('Secret-123', 'Secret-123')).toBe(true);
    expect(passwordsMatch('Secret-123', 'Secret-124')).toBe(false);
    expect(passwordsMatch('', '')).toBe(false);
  });

  it('checks each part of the rule', () => {
    expect(passwordRule('abc')).toEqual({
      length: false,
      lower: true,
      upper: false,
      digit: false,
      symbol: false,
    });
    expect(meetsPasswordRule(passwordRule('Tr0ub4dor&3'))).toBe(true);
    expect(meetsPasswordRule(passwordRule('Tr0ub4dor3'))).toBe(false);
    expect(passwordRule('Aa1!'.repeat(21)).length).toBe(false); // 84 characters
    expect(passwordRule('line\nBreak1').symbol).toBe(true);
  });

  it('reads the strength verdict and scales the meter', () => {
    expect(readVerdict({ entropy: 42, result: 'strong' })).toEqual({ entropy: 42, result: 'strong' });
    expect(readVerdict({ entropy: 12, result: 'weak', reason: 'common' })).toEqual({
      entropy: 12,
      result: 'weak',
      reason: 'common',
    });
    expect(readVerdict({ entropy: '12', result: 'weak' })).toBeNull();
    expect(readVerdict({ entropy: 3, result: 'great' })).toBeNull();
    expect(readVerdict(null)).toBeNull();
    expect(strengthPercent(15, 30)).toBe(50);
    expect(strengthPercent(90, 30)).toBe(100);
    expect(strengthPercent(0, 30)).toBe(0);
  });
});

describe('other fields', () => {
  it('recognises email addresses loosely', () => {
    expect(looksLikeEmail('ana@example.com')).toBe(true);
    expect(looksLikeEmail('ana@example')).toBe(false);
    expect(looksLikeEmail('ana example.com')).toBe(false);
  });

  it('takes two- or three-letter countries and past dates', () => {
    expect(isCountryCode('fr')).toBe(true);
    expect(isCountryCode('FRA')).toBe(true);
    expect(isCountryCode('F')).toBe(false);
    expect(isCountryCode('F1')).toBe(false);
    expect(isPastDate('1990-05-01', '2024-01-01')).toBe(true);
    expect(isPastDate('2024-01-01', '2024-01-01')).toBe(false);
    expect(isPastDate('01/05/1990', '2024-01-01')).toBe(false);
  });

  it('refuses uploads the API would refuse', () => {
    expect(uploadProblem({ size: 1000, type: 'image/png' })).toBeNull();
    expect(uploadProblem({ size: 0, type: 'image/png' })).toBe('size');
    expect(uploadProblem({ size: 11 * 1024 * 1024, type: 'application/pdf' })).toBe('size');
    expect(uploadProblem({ size: 1000, type: 'image/gif' })).toBe('type');
  });
});

describe('resend interval', () => {
  it('counts down from the last send', () => {
    expect(secondsLeft(null, 5_000, 60)).toBe(0);
    expect(secondsLeft(0, 0, 60)).toBe(60);
    expect(secondsLeft(0, 59_001, 60)).toBe(1);
    expect(secondsLeft(0, 60_000, 60)).toBe(0);
  });
});

describe('two-factor seed', () => {
  it('is read from the otpauth URL', () => {
    const url = 'otpauth://totp/Bursa:ana%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Bursa';
    expect(otpSecretOf(url)).toBe('JBSWY3DPEHPK3PXP');
    expect(otpSecretOf('https://example.com/?secret=JBSWY3DPEHPK3PXP')).toBeNull();
    expect(otpSecretOf('otpauth://totp/x?secret=not-base32!')).toBeNull();
    expect(groupSecret('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
  });
});

describe('lists', () => {
  it('reads the Total header and counts pages', () => {
    expect(totalOf(new Headers({ Total: '42' }))).toBe(42);
    expect(totalOf(new Headers())).toBe(0);
    expect(totalOf(new Headers({ Total: 'x' }))).toBe(0);
    expect(pageCount(0, 10)).toBe(1);
    expect(pageCount(10, 10)).toBe(1);
    expect(pageCount(11, 10)).toBe(2);
  });

  it('sends scopes in a fixed order', () => {
    expect(scopeParam(new Set(['trade', 'read'] as const))).toBe('read,trade');
    expect(scopeParam(new Set())).toBe('');
  });

  it('tells what each level opens', () => {
    const levels = { trading: 1, deposit: 1, withdraw: 3 };
    expect(areasAtLevel(levels, 1)).toEqual(['trading', 'deposit']);
    expect(areasAtLevel(levels, 2)).toEqual([]);
    expect(areasAtLevel(levels, 3)).toEqual(['withdraw']);
  });
});
