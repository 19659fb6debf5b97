import type { Separators } from './formatNumber';

const cache = new Map<string, Separators>();

/** The group and decimal marks of a locale (read once from Intl, on a constant). */
export function separatorsFor(locale: string): Separators {
  let found = cache.get(locale);
  if (!found) {
    const parts = new Intl.NumberFormat(locale).formatToParts(12345.6);
    found = {
      group: parts.find((part) => part.type === 'group')?.value ?? '',
      decimal: parts.find((part) => part.type === 'decimal')?.value ?? '.',
    };
    cache.set(locale, found);
  }
  return found;
}
