/** Locale-aware figures and dates for the wallet pages (amounts never go through floats). */
import { useCallback, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Column } from '../../components/table';
import { formatNumber } from '../../lib/formatNumber';
import { separatorsFor } from '../../lib/separators';
import { type Currency, useCurrencies } from './walletApi';

/** Precision when a currency is not (yet) known: its amounts are shown as sent. */
const FALLBACK_PRECISION = 8;

/** `fmt(value, precision)`: the amount rounded half-up to `precision`, in the locale's marks. */
export function useAmountFormat(): (value: string, precision: number) => string {
  const { i18n } = useTranslation();
  const separators = separatorsFor(i18n.resolvedLanguage ?? 'en');
  return useCallback((value, precision) => formatNumber(value, precision, separators), [separators]);
}

/** Listed currencies by code, and each one's precision. */
export function useCurrencyMap() {
  const currencies = useCurrencies();
  const byCode = useMemo(() => {
    const map = new Map<string, Currency>();
    for (const currency of currencies.data ?? []) map.set(currency.id, currency);
    return map;
  }, [currencies.data]);
  const precisionOf = useCallback(
    (code: string) => byCode.get(code)?.precision ?? FALLBACK_PRECISION,
    [byCode],
  );
  return { currencies, byCode, precisionOf };
}

/** An ISO time in the reader's locale (`—` for none). */
export function useDateFormat(): (iso: string | null | undefined) => string {
  const { i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const formatter = useMemo(
    () => new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'short' }),
    [language],
  );
  return useCallback(
    (iso) => {
      if (!iso) return '—';
      const date = new Date(iso);
      return Number.isNaN(date.getTime()) ? iso : formatter.format(date);
    },
    [formatter],
  );
}

/** The columns the deposit, withdraw, transfer and history tables have in common. */
export function useHistoryColumns() {
  const { t } = useTranslation('wallet');
  const column = (name: string, numeric = false): Column => ({ label: t(`common.${name}`), numeric });
  return {
    date: column('date'),
    amount: column('amount', true),
    fee: column('fee', true),
    state: column('state'),
    txid: column('txid'),
  };
}
