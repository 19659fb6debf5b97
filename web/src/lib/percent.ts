import { formatNumber, type Separators } from './formatNumber';

const PERCENT = /^\s*([+-]?\d+(?:\.\d+)?)\s*%?\s*$/;

/** The direction of Peatio's `price_change_percent` text (`+3.19%`, `-0.50%`, `+0.00%`). */
export function changeDirection(text: string): 'up' | 'down' | 'flat' {
  const match = PERCENT.exec(text);
  if (!match || !/[1-9]/.test(match[1]!)) return 'flat';
  return match[1]!.startsWith('-') ? 'down' : 'up';
}

/**
 * Peatio's `+3.19%` with two decimals in the locale's decimal mark: `+3.19%`, or
 * `+3,19 %` where the decimal mark is a comma (French puts a space before `%`). A rise
 * keeps its `+`, no change has no sign. Text that is not a percentage is shown as sent.
 */
export function formatPercent(text: string, separators: Separators = {}): string {
  const match = PERCENT.exec(text);
  if (!match) return text;
  const formatted = formatNumber(match[1]!, 2, { decimal: separators.decimal });
  const direction = changeDirection(text);
  const sign = direction === 'up' ? '+' : '';
  const space = separators.decimal === ',' ? '\u202f' : '';
  return `${sign}${formatted}${space}%`;
}
