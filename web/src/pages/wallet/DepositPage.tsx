/**
 * Deposits of one currency: a coin's address (with its QR code, network, minimum and the
 * confirmations a deposit needs), or how fiat reaches the exchange; then the member's
 * deposits with their state and confirmations, live.
 */
import { useTranslation } from 'react-i18next';
import { useSession } from '../../api/session';
import { isPositive } from './amounts';
import { DepositAddressCard } from './DepositAddress';
import { useAmountFormat, useCurrencyMap, useDateFormat } from './format';
import { useGate } from './gate';
import { CurrencyPicker, LevelNotice, StateBadge, WalletError } from './parts';
import { type Currency, isConfirming, useDeposits } from './walletApi';

export function DepositPage({ currency: code }: { currency: string }) {
  const { t } = useTranslation('wallet');
  const { currencies, byCode } = useCurrencyMap();
  const gate = useGate();
  const currency = byCode.get(code);
  const open = (currencies.data ?? []).filter((c) => c.deposit_enabled || c.id === code);

  if (currencies.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (currencies.isError)
    return <WalletError error={currencies.error} onRetry={() => void currencies.refetch()} />;

  return (
    <div className="wallet-section">
      <h2>{t('deposit.title', { currency: code.toUpperCase() })}</h2>
      <CurrencyPicker currencies={open} value={code} action="deposit" />
      {!currency && (
        <p className="notice notice-warning">{t('common.unknownCurrency', { currency: code })}</p>
      )}
      {currency && !gate.canDeposit && (
        <LevelNotice area="deposit" needed={gate.depositLevel} have={gate.level} />
      )}
      {currency && gate.canDeposit && (
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
    </div>
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
  return (
    <section className="wallet-history" aria-labelledby="deposit-history">
      <h3 id="deposit-history">{t('deposit.history')}</h3>
      {deposits.isPending && <p className="muted">{t('common.loading')}</p>}
      {deposits.isError && <WalletError error={deposits.error} onRetry={() => void deposits.refetch()} />}
      {deposits.isSuccess && deposits.data.length === 0 && <p className="muted">{t('deposit.none')}</p>}
      {deposits.isSuccess && deposits.data.length > 0 && (
        <div className="table-wrap">
          <table className="wallet-table">
            <thead>
              <tr>
                <th scope="col">{t('common.date')}</th>
                <th scope="col" className="num">
                  {t('common.amount')}
                </th>
                <th scope="col" className="num">
                  {t('common.fee')}
                </th>
                <th scope="col">{t('deposit.confirmations')}</th>
                <th scope="col">{t('common.state')}</th>
                <th scope="col">{t('common.txid')}</th>
              </tr>
            </thead>
            <tbody>
              {deposits.data.map((deposit) => (
                <tr
                  key={deposit.id}
                  data-testid="deposit-row"
                  data-state={deposit.state}
                  data-confirmations={deposit.confirmations}
                >
                  <td data-label={t('common.date')}>{date(deposit.created_at)}</td>
                  <td className="num" data-label={t('common.amount')}>
                    {fmt(deposit.amount, currency.precision)} {unit}
                  </td>
                  <td className="num" data-label={t('common.fee')}>
                    {isPositive(deposit.fee) ? fmt(deposit.fee, currency.precision) : '—'}
                  </td>
                  <td data-label={t('deposit.confirmations')}>
                    {deposit.min_confirmations === null
                      ? '—'
                      : t('deposit.confirmationsOf', {
                          count: deposit.confirmations,
                          needed: deposit.min_confirmations,
                        })}
                    {isConfirming(deposit) && (
                      <span className="visually-hidden"> {t('deposit.confirming')}</span>
                    )}
                  </td>
                  <td data-label={t('common.state')}>
                    <StateBadge
                      state={deposit.state}
                      label={
                        deposit.state === 'submitted' && deposit.min_confirmations !== null
                          ? t('depositState.confirming')
                          : t(`depositState.${deposit.state}`, { defaultValue: deposit.state })
                      }
                    />
                  </td>
                  <td data-label={t('common.txid')} className="wallet-mono wallet-break">
                    {deposit.txid ?? '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
