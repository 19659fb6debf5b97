/**
 * Decimal formatting without floating point.
 *
 * The API sends every amount and price as a decimal string. `formatNumber` works on
 * the digits of that string only (never `Number`/`parseFloat`), so values beyond 2^53
 * and long fractions keep every digit.
 *
 * Rounding: ROUND_HALF_UP on the magnitude (half away from zero, as Python's
 * `decimal.ROUND_HALF_UP`): `1.005` at 2 → `1.01`, `-1.005` at 2 → `-1.01`.
 * The result always has exactly `precision` fraction digits; `-0` prints as `0`.
 */

export interface Separators {
  /** Between groups of three integer digits; `''` (default) for none. */
  group?: string;
  /** Before the fraction digits; `'.'` by default. */
  decimal?: string;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Adds one to a string of decimal digits (`'099'` → `'100'`, `'99'` → `'100'`). */
function incrementDigits(digits: string): string {
  const out = digits.split('');
  let i = out.length - 1;
  while (i >= 0) {
    if (out[i] === '9') {
      out[i] = '0';
      i -= 1;
    } else {
      out[i] = String.fromCharCode(out[i]!.charCodeAt(0) + 1);
      return out.join('');
    }
  }
  return '1' + out.join('');
}

function groupThousands(integer: string, group: string): string {
  if (!group) return integer;
  let out = '';
  for (let i = 0; i < integer.length; i += 1) {
    if (i > 0 && (integer.length - i) % 3 === 0) out += group;
    out += integer[i];
  }
  return out;
}

/**
 * Formats the decimal string `value` with exactly `precision` fraction digits
 * (rounded half up). A value that is not a decimal number is returned unchanged.
 */
export function formatNumber(value: string, precision: number, separators: Separators = {}): string {
  const match = DECIMAL.exec(value.trim());
  if (!match || (!match[2] && !match[3]) || !Number.isInteger(precision) || precision < 0) {
    return value;
  }
  const negative = match[1] === '-';
  let intPart = match[2] ?? '';
  let fracPart = match[3] ?? '';
  const exponent = match[4] ? parseInt(match[4], 10) : 0;

  // Apply the exponent by moving the decimal point within the digit string.
  if (exponent > 0) {
    const moved = fracPart.padEnd(exponent, '0');
    intPart += moved.slice(0, exponent);
    fracPart = moved.slice(exponent);
  } else if (exponent < 0) {
    const shift = -exponent;
    const padded = intPart.padStart(shift, '0');
    fracPart = padded.slice(padded.length - shift) + fracPart;
    intPart = padded.slice(0, padded.length - shift);
  }

  let digits = intPart + fracPart.padEnd(precision, '0').slice(0, precision);
  const roundUp = (fracPart[precision] ?? '0') >= '5';
  if (roundUp) digits = incrementDigits(digits || '0');
  digits = digits.padStart(precision + 1, '0');

  let integer = digits.slice(0, digits.length - precision).replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(digits.length - precision);
  if (integer === '') integer = '0';
  const isZero = /^0*$/.test(integer + fraction);

  const sign = negative && !isZero ? '-' : '';
  const body = groupThousands(integer, separators.group ?? '');
  return precision > 0 ? `${sign}${body}${separators.decimal ?? '.'}${fraction}` : `${sign}${body}`;
}
