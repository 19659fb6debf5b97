/**
 * Deposits of one currency: a coin's address (with its QR code, network, minimum and the
 * confirmations a deposit needs), or how fiat reaches the exchange; then the member's
 * deposits with their state and confirmations, live.
 */
import { useTranslation } from 'react-i18next';
import { useSession } from '../../api/session';
import { isPositive } from './amounts';
import { DepositAddressCard } from './DepositAddress';
import { Cell, TableHead } from '../../components/table';
import { useAmountFormat, useDateFormat, useHistoryColumns } from './format';
import { CurrencyActionPage, ListStatus, StateBadge } from './parts';
import { type Currency, isConfirming, useDeposits } from './walletApi';

export function DepositPage({ currency: code }: { currency: string }) {
  const { t } = useTranslation('wallet');
  return (
    <CurrencyActionPage code={code} action="deposit">
      {(currency) => (
        <>
          {!currency.deposit_enabled ? (
            <p className="notice notice-warning">{t('deposit.disabled', { currency: code.toUpperCase() })}</p>
          ) : currency.type === 'coin' ? (
            <DepositAddressCard currency={currency} />
          ) : (
            <FiatInstructions currency={currency} />
          )}
          <DepositHistory currency={currency} />
        </>
      )}
    </CurrencyActionPage>
  );
}

/**
 * Bursa publishes no bank details: a fiat deposit is credited when the exchange's payment
 * gateway reports it or when staff record the transfer they received. Say so, with the
 * member's UID as the reference, the currency's minimum and fee, and its description.
 */
function FiatInstructions({ currency }: { currency: Currency }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const { user } = useSession();
  const unit = currency.id.toUpperCase();
  return (
    <div className="card wallet-card" data-testid="deposit-fiat">
      <h3>{t('deposit.fiat.title', { currency: unit })}</h3>
      <p>{t('deposit.fiat.how')}</p>
      <dl className="wallet-facts">
        <dt>{t('deposit.fiat.reference')}</dt>
        <dd>
          <code data-testid="deposit-reference">{user?.uid ?? '—'}</code>
        </dd>
        <dt>{t('deposit.minimum')}</dt>
        <dd>
          {fmt(currency.min_deposit_amount, currency.precision)} {unit}
        </dd>
        <dt>{t('deposit.fee')}</dt>
        <dd>
          {fmt(currency.deposit_fee, currency.precision)} {unit}
        </dd>
      </dl>
      {currency.description && <p className="muted">{currency.description}</p>}
      <p className="muted">{t('deposit.fiat.noBankDetails')}</p>
    </div>
  );
}

function DepositHistory({ currency }: { currency: Currency }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const date = useDateFormat();
  const deposits = useDeposits(currency.id, true);
  const unit = currency.id.toUpperCase();
  const { date: date_, amount, fee, state, txid } = useHistoryColumns();
  const confirmations = { label: t('deposit.confirmations') };
  return (
    <section className="wallet-history" aria-labelledby="deposit-history">
      <h3 id="deposit-history">{t('deposit.history')}</h3>
      <ListStatus query={deposits} rows={deposits.data?.length ?? 0} empty={t('deposit.none')} />
      {deposits.isSuccess && deposits.data.length > 0 && (
        <div className="table-wrap">
          <table className="wallet-table">
            <TableHead columns={[date_, amount, fee, confirmations, state, txid]} />
            <tbody>
              {deposits.data.map((deposit) => (
                <tr
                  key={deposit.id}
                  data-testid="deposit-row"
                  data-state={deposit.state}
                  data-confirmations={deposit.confirmations}
                >
                  <Cell {...date_}>{date(deposit.created_at)}</Cell>
                  <Cell {...amount}>
                    {fmt(deposit.amount, currency.precision)} {unit}
                  </Cell>
                  <Cell {...fee}>{isPositive(deposit.fee) ? fmt(deposit.fee, currency.precision) : '—'}</Cell>
                  <Cell {...confirmations}>
                    {deposit.min_confirmations === null
                      ? '—'
                      : t('deposit.confirmationsOf', {
                          count: deposit.confirmations,
                          needed: deposit.min_confirmations,
                        })}
                    {isConfirming(deposit) && (
                      <span className="visually-hidden"> {t('deposit.confirming')}</span>
                    )}
                  </Cell>
                  <Cell {...state}>
                    <StateBadge
                      state={deposit.state}
                      label={
                        deposit.state === 'submitted' && deposit.min_confirmations !== null
                          ? t('depositState.confirming')
                          : t(`depositState.${deposit.state}`, { defaultValue: deposit.state })
                      }
                    />
                  </Cell>
                  <Cell {...txid} className="wallet-mono wallet-break">
                    {deposit.txid ?? '—'}
                  </Cell>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
