/** Deposits and withdrawals of every currency (or one), newest first, live by their streams. */
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { isPositive } from './amounts';
import { useAmountFormat, useCurrencyMap, useDateFormat } from './format';
import { StateBadge, WalletError } from './parts';
import { useTransactions } from './walletApi';

export function HistoryPage() {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const date = useDateFormat();
  const filterId = useId();
  const { currencies, precisionOf } = useCurrencyMap();
  const [currency, setCurrency] = useState('');
  const history = useTransactions(currency || null);
  const rows = history.data ?? [];
  return (
    <div className="wallet-section">
      <h2>{t('history.title')}</h2>
      <div className="wallet-toolbar">
        <div className="field">
          <label htmlFor={filterId}>{t('common.currency')}</label>
          <select id={filterId} value={currency} onChange={(event) => setCurrency(event.target.value)}>
            <option value="">{t('history.all')}</option>
            {(currencies.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.id.toUpperCase()} — {c.name}
              </option>
            ))}
          </select>
        </div>
        <p className="muted">
          <Link to="/wallets/transfer">{t('history.transfersLink')}</Link>
        </p>
      </div>
      {history.isPending && <p className="muted">{t('common.loading')}</p>}
      {history.isError && <WalletError error={history.error} onRetry={() => void history.refetch()} />}
      {history.isSuccess && rows.length === 0 && <p className="muted">{t('history.none')}</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="wallet-table">
            <thead>
              <tr>
                <th scope="col">{t('common.date')}</th>
                <th scope="col">{t('history.type')}</th>
                <th scope="col" className="num">
                  {t('common.amount')}
                </th>
                <th scope="col" className="num">
                  {t('common.fee')}
                </th>
                <th scope="col">{t('common.state')}</th>
                <th scope="col">{t('history.address')}</th>
                <th scope="col">{t('common.txid')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => {
                const deposit = row.type === 'Deposit';
                const precision = precisionOf(row.currency);
                return (
                  <tr
                    key={`${row.type}-${row.txid ?? ''}-${row.created_at}-${index}`}
                    data-testid="history-row"
                    data-type={row.type}
                    data-state={row.state}
                  >
                    <td data-label={t('common.date')}>{date(row.created_at)}</td>
                    <td data-label={t('history.type')}>
                      {deposit ? t('history.deposit') : t('history.withdraw')}
                    </td>
                    <td
                      className={`num ${deposit ? 'change-up' : 'change-down'}`}
                      data-label={t('common.amount')}
                    >
                      {deposit ? '+' : '−'}
                      {fmt(row.amount, precision)} {row.currency.toUpperCase()}
                    </td>
                    <td className="num" data-label={t('common.fee')}>
                      {isPositive(row.fee) ? fmt(row.fee, precision) : '—'}
                    </td>
                    <td data-label={t('common.state')}>
                      <StateBadge
                        state={row.state}
                        label={
                          deposit
                            ? t(`depositState.${row.state}`, { defaultValue: row.state })
                            : t(`withdrawState.${row.state}`, { defaultValue: row.state })
                        }
                      />
                    </td>
                    <td data-label={t('history.address')} className="wallet-mono wallet-break">
                      {row.address ?? '—'}
                    </td>
                    <td data-label={t('common.txid')} className="wallet-mono wallet-break">
                      {row.txid ?? '—'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
