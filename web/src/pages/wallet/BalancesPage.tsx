/**
 * Every currency's balance (available, locked in orders and withdrawals, total), live by
 * the `balance` stream, and the whole valued in the platform currency (`estimate.ts`).
 */
import { useDeferredValue, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useBalances } from '../../api/balances';
import { useMarkets, useTickers } from '../../api/markets';
import { ErrorNotice } from '../../components/ErrorNotice';
import { TableHead } from '../../components/table';
import { separatorsFor } from '../../lib/separators';
import { DemoFunds } from './DemoFunds';
import { addDecimals, isPositive, trimZeros } from './amounts';
import { estimateTotal, type LastPrices, valueIn } from './estimate';
import { useAmountFormat, useCurrencyMap } from './format';
import { CurrencyLabel } from './parts';
import { usePlatformCurrency } from './walletApi';

const HIDE_ZERO_KEY = 'bursa.wallet.hideZero';
/** Decimals always shown in balances; further zeros are trimmed (ETH has 18). */
const SHOWN_DECIMALS = 8;

function savedHideZero(): boolean {
  try {
    return localStorage.getItem(HIDE_ZERO_KEY) === '1';
  } catch {
    return false;
  }
}

export function BalancesPage() {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const { i18n } = useTranslation();
  const separators = separatorsFor(i18n.resolvedLanguage ?? 'en');
  const searchId = useId();
  const hideId = useId();
  const balances = useBalances();
  const { currencies, byCode, precisionOf } = useCurrencyMap();
  const markets = useMarkets();
  const tickers = useTickers();
  const platformQuery = usePlatformCurrency();
  const platform = platformQuery.data ?? '';
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query.trim().toLowerCase());
  const [hideZero, setHideZero] = useState(savedHideZero);

  const last = useMemo(() => {
    const prices: LastPrices = {};
    for (const [market, entry] of Object.entries(tickers.data ?? {})) prices[market] = entry?.ticker.last;
    return prices;
  }, [tickers.data]);

  const rows = useMemo(
    () =>
      (balances.data ?? []).map((row) => ({
        ...row,
        total: addDecimals(row.balance, row.locked),
        currency: row.currency,
      })),
    [balances.data],
  );
  const shown = rows.filter((row) => {
    if (hideZero && !isPositive(row.total)) return false;
    if (!deferred) return true;
    const name = byCode.get(row.currency)?.name.toLowerCase() ?? '';
    return row.currency.includes(deferred) || name.includes(deferred);
  });
  const marketList = markets.data ?? [];
  const estimate = estimateTotal(rows, platform, marketList, last);
  const platformPrecision = precisionOf(platform);
  const priced = markets.isSuccess && tickers.isSuccess && platformQuery.isSuccess;
  /** An estimate, not an amount held: the platform currency's precision without trailing zeros. */
  /** By the currency's precision, zeros beyond SHOWN_DECIMALS trimmed. */
  const balanceText = (value: string, precision: number) =>
    trimZeros(fmt(value, precision), separators.decimal ?? '.', Math.min(precision, SHOWN_DECIMALS));
  const estimateText = (value: string) => trimZeros(fmt(value, platformPrecision), separators.decimal ?? '.');

  const toggleHideZero = (value: boolean) => {
    setHideZero(value);
    try {
      localStorage.setItem(HIDE_ZERO_KEY, value ? '1' : '0');
    } catch {
      // Storage disabled: the choice lasts for this page only.
    }
  };

  return (
    <div className="wallet-balances">
      <DemoFunds />
      <div className="card wallet-estimate">
        <span className="muted">{t('balances.estimated', { currency: platform.toUpperCase() })}</span>
        <strong className="wallet-estimate-value" data-testid="estimated-total" data-value={estimate.total}>
          {priced && balances.isSuccess ? `≈ ${estimateText(estimate.total)}` : '…'}{' '}
          <span className="unit">{platform.toUpperCase()}</span>
        </strong>
        <p className="hint muted">
          {t('balances.estimateHow', { currency: platform.toUpperCase() })}
          {estimate.unpriced.length > 0 &&
            ' ' +
              t('balances.unpriced', {
                count: estimate.unpriced.length,
                list: estimate.unpriced.map((c) => c.toUpperCase()).join(', '),
              })}
        </p>
      </div>

      <div className="wallet-toolbar">
        <div className="search">
          <label htmlFor={searchId}>{t('balances.search')}</label>
          <input
            id={searchId}
            type="search"
            value={query}
            placeholder={t('balances.searchPlaceholder')}
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setQuery(event.target.value)}
          />
        </div>
        <label className="wallet-check" htmlFor={hideId}>
          <input
            id={hideId}
            type="checkbox"
            data-testid="hide-zero"
            checked={hideZero}
            onChange={(event) => toggleHideZero(event.target.checked)}
          />
          {t('balances.hideZero')}
        </label>
      </div>

      {balances.isPending && <p role="status">{t('common.loading')}</p>}
      {balances.isError && <ErrorNotice error={balances.error} onRetry={() => void balances.refetch()} />}
      {currencies.isError && (
        <ErrorNotice error={currencies.error} onRetry={() => void currencies.refetch()} />
      )}
      {balances.isSuccess && (
        <>
          <p className="count" aria-live="polite">
            {shown.length === 0 ? t('balances.noMatch') : t('balances.count', { count: shown.length })}
          </p>
          <div className="table-wrap">
            <table className="wallet-table wallet-balance-table" data-testid="balances">
              <TableHead
                columns={[
                  { label: t('common.currency') },
                  { label: t('balances.available'), numeric: true },
                  { label: t('balances.locked'), numeric: true },
                  { label: t('balances.total'), numeric: true },
                  {
                    label: t('balances.value', { currency: platform.toUpperCase() }),
                    numeric: true,
                    className: 'wallet-col-value',
                  },
                ]}
              >
                <th scope="col">
                  <span className="visually-hidden">{t('common.actions')}</span>
                </th>
              </TableHead>
              <tbody>
                {shown.map((row) => {
                  const currency = byCode.get(row.currency);
                  const precision = precisionOf(row.currency);
                  const value = priced ? valueIn(row.total, row.currency, platform, marketList, last) : null;
                  return (
                    <tr key={row.currency} data-testid="balance-row" data-currency={row.currency}>
                      <th scope="row">
                        <CurrencyLabel code={row.currency} currency={currency} />
                      </th>
                      <td
                        className="num"
                        data-label={t('balances.available')}
                        data-testid="balance-available"
                      >
                        {balanceText(row.balance, precision)}
                      </td>
                      <td className="num" data-label={t('balances.locked')} data-testid="balance-locked">
                        {balanceText(row.locked, precision)}
                      </td>
                      <td className="num" data-label={t('balances.total')} data-testid="balance-total">
                        {balanceText(row.total, precision)}
                      </td>
                      <td
                        className="num muted wallet-col-value"
                        data-label={t('balances.value', { currency: platform.toUpperCase() })}
                      >
                        {value === null ? t('balances.noPrice') : `≈ ${estimateText(value)}`}
                      </td>
                      <td>
                        <div className="wallet-row-actions">
                          {currency?.deposit_enabled !== false && (
                            <Link
                              className="button"
                              to={`/wallets/${row.currency}/deposit`}
                              aria-label={t('balances.depositOf', { currency: row.currency.toUpperCase() })}
                            >
                              {t('nav.deposit')}
                            </Link>
                          )}
                          {currency?.withdrawal_enabled !== false && (
                            <Link
                              className="button"
                              to={`/wallets/${row.currency}/withdraw`}
                              aria-label={t('balances.withdrawOf', { currency: row.currency.toUpperCase() })}
                            >
                              {t('nav.withdraw')}
                            </Link>
                          )}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
