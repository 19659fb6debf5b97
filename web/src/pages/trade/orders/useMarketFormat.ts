import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useMarkets, type Market } from '../../../api/markets';
import { formatNumber } from '../../../lib/formatNumber';
import { separatorsFor } from '../../../lib/separators';
import { decimalPlaces, normalizeDecimal } from '../form/validateOrder';
import { orderTime } from './orderRows';

export interface MarketFormat {
  market: (id: string) => Market | undefined;
  /** `BTC/USDT`. */
  name: (id: string) => string;
  base: (id: string) => string;
  quote: (id: string) => string;
  /** By the market's price precision. */
  price: (id: string, value: string) => string;
  /** By the market's amount precision. */
  amount: (id: string, value: string) => string;
  /** Every digit the value has (totals and fees, whose currency precision we do not hold). */
  exact: (value: string) => string;
  /** A total in quote: every digit, and at least the market's price decimals (so a column aligns). */
  total: (id: string, value: string) => string;
  /** Every digit, the locale's decimal mark, no grouping (a balance to read or copy). */
  plain: (value: string) => string;
  date: (value: string | number) => string;
}

/**
 * Numbers of a market in the member's locale, never through floats (`formatNumber`):
 * prices and amounts by the market's precisions; a market not (yet) known shows values as
 * sent.
 */
export function useMarketFormat(): MarketFormat {
  const { i18n } = useTranslation();
  const markets = useMarkets();
  const language = i18n.resolvedLanguage ?? 'en';
  return useMemo(() => {
    const separators = separatorsFor(language);
    const byId = new Map((markets.data ?? []).map((market) => [market.id, market]));
    const dates = new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'medium' });
    const exact = (value: string) => {
      const canonical = normalizeDecimal(value);
      return canonical === null ? value : formatNumber(canonical, decimalPlaces(canonical), separators);
    };
    return {
      market: (id) => byId.get(id),
      name: (id) => {
        const market = byId.get(id);
        return market ? `${market.base_unit}/${market.quote_unit}`.toUpperCase() : id.toUpperCase();
      },
      base: (id) => (byId.get(id)?.base_unit ?? '').toUpperCase(),
      quote: (id) => (byId.get(id)?.quote_unit ?? '').toUpperCase(),
      price: (id, value) => {
        const market = byId.get(id);
        return market ? formatNumber(value, market.price_precision, separators) : exact(value);
      },
      amount: (id, value) => {
        const market = byId.get(id);
        return market ? formatNumber(value, market.amount_precision, separators) : exact(value);
      },
      exact,
      total: (id, value) => {
        const canonical = normalizeDecimal(value);
        if (canonical === null) return value;
        const places = Math.max(decimalPlaces(canonical), byId.get(id)?.price_precision ?? 0);
        return formatNumber(canonical, places, separators);
      },
      plain: (value) => {
        const canonical = normalizeDecimal(value);
        return canonical === null
          ? value
          : formatNumber(canonical, decimalPlaces(canonical), { decimal: separators.decimal });
      },
      date: (value) => {
        const date = orderTime(value);
        return date ? dates.format(date) : String(value);
      },
    } satisfies MarketFormat;
  }, [markets.data, language]);
}
