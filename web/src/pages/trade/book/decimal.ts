/**
 * Exact arithmetic on the API's non-negative decimal strings (`"30000"`, `"0.015"`):
 * scaled bigints, never floats, so an order book's prices and sums keep every digit.
 */

const PLAIN = /^(\d+)(?:\.(\d*))?$/;

/** Fraction digits of a plain decimal string (`"1.50"` → 2, `"7"` → 0). */
export function fractionDigits(value: string): number {
  const dot = value.indexOf('.');
  return dot < 0 ? 0 : value.length - dot - 1;
}

/** `value` × 10^scale as a bigint; digits beyond `scale` are cut (callers pass scales that hold them). */
export function toUnits(value: string, scale: number): bigint {
  const match = PLAIN.exec(value);
  if (!match) return 0n;
  const fraction = (match[2] ?? '').padEnd(scale, '0').slice(0, scale);
  return BigInt(match[1]! + fraction);
}

/** The plain decimal string of `units` / 10^scale, without trailing zeros (`3000050, 2` → `"30000.5"`). */
export function fromUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  digits = digits.padStart(scale + 1, '0');
  const integer = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = fraction ? `${integer}.${fraction}` : integer;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

/** Orders two non-negative decimal strings by value (`"2" < "10"`, `"1.5" == "1.50"`). */
export function compareDecimal(a: string, b: string): number {
  const [aInt, aFrac] = split(a);
  const [bInt, bFrac] = split(b);
  if (aInt.length !== bInt.length) return aInt.length < bInt.length ? -1 : 1;
  if (aInt !== bInt) return aInt < bInt ? -1 : 1;
  const width = Math.max(aFrac.length, bFrac.length);
  const x = aFrac.padEnd(width, '0');
  const y = bFrac.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Integer digits without leading zeros, fraction digits without trailing zeros. */
function split(value: string): [string, string] {
  const dot = value.indexOf('.');
  const integer = (dot < 0 ? value : value.slice(0, dot)).replace(/^0+/, '');
  const fraction = dot < 0 ? '' : value.slice(dot + 1).replace(/0+$/, '');
  return [integer, fraction];
}

/** True for a decimal string worth zero (`"0"`, `"0.000"`) or the empty removal mark. */
export function isZero(value: string): boolean {
  return !/[1-9]/.test(value);
}

/** A plain non-negative decimal string, as the API writes amounts and prices. */
export function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && PLAIN.test(value);
}
