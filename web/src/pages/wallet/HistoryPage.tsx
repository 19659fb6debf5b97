/** Deposits and withdrawals of every currency (or one), newest first, live by their streams. */
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { Cell, TableHead } from '../../components/table';
import { isPositive } from './amounts';
import { useAmountFormat, useCurrencyMap, useDateFormat, useHistoryColumns } from './format';
import { CurrencyOptions, ListStatus, StateBadge } from './parts';
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
  const columns = useHistoryColumns();
  const type = { label: t('history.type') };
  const address = { label: t('history.address') };
  return (
    <div className="wallet-section">
      <h2>{t('history.title')}</h2>
      <div className="wallet-toolbar">
        <div className="field">
          <label htmlFor={filterId}>{t('common.currency')}</label>
          <select id={filterId} value={currency} onChange={(event) => setCurrency(event.target.value)}>
            <option value="">{t('history.all')}</option>
            <CurrencyOptions currencies={currencies.data ?? []} />
          </select>
        </div>
        <p className="muted">
          <Link to="/wallets/transfer">{t('history.transfersLink')}</Link>
        </p>
      </div>
      <ListStatus query={history} rows={rows.length} empty={t('history.none')} />
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="wallet-table">
            <TableHead
              columns={[
                columns.date,
                type,
                columns.amount,
                columns.fee,
                columns.state,
                address,
                columns.txid,
              ]}
            />
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
                    <Cell {...columns.date}>{date(row.created_at)}</Cell>
                    <Cell {...type}>{deposit ? t('history.deposit') : t('history.withdraw')}</Cell>
                    <Cell {...columns.amount} className={deposit ? 'change-up' : 'change-down'}>
                      {deposit ? '+' : '−'}
                      {fmt(row.amount, precision)} {row.currency.toUpperCase()}
                    </Cell>
                    <Cell {...columns.fee}>{isPositive(row.fee) ? fmt(row.fee, precision) : '—'}</Cell>
                    <Cell {...columns.state}>
                      <StateBadge
                        state={row.state}
                        label={
                          deposit
                            ? t(`depositState.${row.state}`, { defaultValue: row.state })
                            : t(`withdrawState.${row.state}`, { defaultValue: row.state })
                        }
                      />
                    </Cell>
                    <Cell {...address} className="wallet-mono wallet-break">
                      {row.address ?? '—'}
                    </Cell>
                    <Cell {...columns.txid} className="wallet-mono wallet-break">
                      {row.txid ?? '—'}
                    </Cell>
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
