/**
 * The wallet's exact arithmetic on the API's decimal strings (big.js, never `Number`).
 *
 * A Bursa withdrawal sends `amount` to the beneficiary and charges the currency's fee on
 * top: the member's balance pays `amount + fee` (the engine holds both, custody sends
 * `amount`). So what the beneficiary receives is the amount typed, and the most one can
 * ask is the available balance less the fee.
 */
import Big from 'big.js';

/** Our own constructor: its settings never leak into other users of big.js. */
export const Dec = Big();
Dec.DP = 40;
Dec.RM = Big.roundDown;
Dec.strict = false;

const PLAIN = /^\d+(?:\.\d+)?$/;

export type AmountProblem = 'empty' | 'invalid' | 'tooPrecise' | 'nonPositive';

export type ParsedAmount = { ok: true; text: string; value: Big } | { ok: false; problem: AmountProblem };

/**
 * Reads a typed amount in plain notation (digits, one `.` or `,` as decimal mark), with
 * at most `precision` decimals. `text` is what is sent: the digits with a `.`.
 */
export function parseAmount(typed: string, precision: number): ParsedAmount {
  const trimmed = typed.trim();
  if (trimmed === '') return { ok: false, problem: 'empty' };
  const text = trimmed.replace(',', '.');
  if (!PLAIN.test(text)) return { ok: false, problem: 'invalid' };
  const decimals = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  if (decimals > precision) return { ok: false, problem: 'tooPrecise' };
  const value = new Dec(text);
  if (value.lte(0)) return { ok: false, problem: 'nonPositive' };
  return { ok: true, text, value };
}

/** `a + b`, as a plain decimal string. */
export function addDecimals(a: string, b: string): string {
  return new Dec(a).plus(b).toFixed();
}

/** What a withdrawal of `amount` gives the beneficiary and costs the balance. */
export function withdrawFigures(amount: string, fee: string): { receive: string; total: string } {
  return { receive: new Dec(amount).toFixed(), total: addDecimals(amount, fee) };
}

/** The largest amount the balance pays with the fee on top (0 when it cannot), rounded down. */
export function maxWithdrawable(available: string, fee: string, precision: number): string {
  const most = new Dec(available).minus(fee);
  return most.lte(0) ? '0' : most.round(precision, Big.roundDown).toFixed();
}

/** What is left of a limit after `used` (`null`: the limit is 0, i.e. none). */
export function remainingOf(limit: string, used: string): string | null {
  const cap = new Dec(limit);
  if (cap.lte(0)) return null;
  const left = cap.minus(used);
  return left.lte(0) ? '0' : left.toFixed();
}

export interface WithdrawRules {
  fee: string;
  minimum: string;
  available: string;
  /** The currency's limits and what counts against them (`0` limits: none). */
  limit24h: string;
  used24h: string;
  limit72h: string;
  used72h: string;
}

export type WithdrawProblem = 'belowMinimum' | 'overBalance' | 'over24h' | 'over72h';

/** Why the server would refuse this amount, checked before asking it (the server decides). */
export function withdrawProblems(amount: Big, rules: WithdrawRules): WithdrawProblem[] {
  const found: WithdrawProblem[] = [];
  if (amount.lt(rules.minimum)) found.push('belowMinimum');
  if (amount.plus(rules.fee).gt(rules.available)) found.push('overBalance');
  const left24 = remainingOf(rules.limit24h, rules.used24h);
  if (left24 !== null && amount.gt(left24)) found.push('over24h');
  const left72 = remainingOf(rules.limit72h, rules.used72h);
  if (left72 !== null && amount.gt(left72)) found.push('over72h');
  return found;
}

/** `value` is more than zero (a decimal string). */
export function isPositive(value: string): boolean {
  try {
    return new Dec(value).gt(0);
  } catch {
    return false;
  }
}

/**
 * A formatted figure without the trailing zeros of its fraction, keeping `keep` decimals
 * (`1,234.50000000` → `1,234.50`); `decimal` is the locale's decimal mark.
 */
export function trimZeros(formatted: string, decimal: string, keep = 2): string {
  const at = formatted.lastIndexOf(decimal);
  if (at < 0) return formatted;
  let end = formatted.length;
  while (end > at + 1 + keep && formatted[end - 1] === '0') end -= 1;
  return end === at + 1 ? formatted.slice(0, at) : formatted.slice(0, end);
}
