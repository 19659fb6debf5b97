/**
 * Internal transfers: funds sent at once to another member of the exchange, named by
 * their UID or username (Bursa's `account/internal_transfers` takes no e-mail address),
 * with a 2FA code; and the transfers sent and received.
 */
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { balanceOf, useBalances } from '../../api/balances';
import { Cell, TableHead } from '../../components/table';
import { useToasts } from '../../lib/toasts';
import { parseAmount } from './amounts';
import { useAmountFormat, useCurrencyMap, useDateFormat, useHistoryColumns } from './format';
import { useGate } from './gate';
import { CurrencyOptions, ListStatus, OtpField, OtpNotice, StateBadge, WalletError } from './parts';
import { useCreateTransfer, useTransfers } from './walletApi';

export function TransferPage() {
  const { t } = useTranslation('wallet');
  const gate = useGate();
  return (
    <div className="wallet-section">
      <h2>{t('transfer.title')}</h2>
      <p className="muted">{t('transfer.intro')}</p>
      {!gate.hasOtp && <OtpNotice />}
      <TransferForm hasOtp={gate.hasOtp} />
      <TransferHistory />
    </div>
  );
}

function TransferForm({ hasOtp }: { hasOtp: boolean }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const toasts = useToasts();
  const ids = useId();
  const { currencies, precisionOf } = useCurrencyMap();
  const balances = useBalances();
  const create = useCreateTransfer();
  const [recipient, setRecipient] = useState('');
  const [currency, setCurrency] = useState('');
  const [typed, setTyped] = useState('');
  const [otp, setOtp] = useState('');
  const [tried, setTried] = useState(false);

  const code = currency || currencies.data?.[0]?.id || '';
  const precision = precisionOf(code);
  const unit = code.toUpperCase();
  const available = balanceOf(balances.data, code)?.balance ?? '0';
  const parsed = parseAmount(typed, precision);
  const overBalance = parsed.ok && parsed.value.gt(available);
  const amountError = !parsed.ok
    ? tried || typed !== ''
      ? t(`amount.${parsed.problem}`, { precision })
      : null
    : overBalance
      ? t('transfer.overBalance')
      : null;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (!parsed.ok || overBalance || !recipient.trim() || !code) return;
    create.mutate(
      { currency: code, amount: parsed.text, username_or_uid: recipient.trim(), otp: otp.trim() },
      {
        onSuccess: (made) => {
          setTyped('');
          setOtp('');
          setTried(false);
          toasts.push(
            t('transfer.done', {
              amount: fmt(made.amount, precision),
              currency: unit,
              to: made.receiver_username ?? made.receiver_uid,
            }),
            'success',
          );
        },
      },
    );
  };

  return (
    <form className="card wallet-card wallet-form wallet-transfer" onSubmit={onSubmit}>
      <div className="field">
        <label htmlFor={`${ids}-recipient`}>{t('transfer.recipient')}</label>
        <input
          id={`${ids}-recipient`}
          data-testid="transfer-recipient"
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          required
          value={recipient}
          onChange={(event) => setRecipient(event.target.value)}
        />
        <span className="hint">{t('transfer.recipientHint')}</span>
        {tried && !recipient.trim() && <span className="field-error">{t('transfer.needRecipient')}</span>}
      </div>
      <div className="field">
        <label htmlFor={`${ids}-currency`}>{t('common.currency')}</label>
        <select
          id={`${ids}-currency`}
          data-testid="transfer-currency"
          value={code}
          onChange={(event) => setCurrency(event.target.value)}
        >
          <CurrencyOptions currencies={currencies.data ?? []} />
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-amount`}>{t('transfer.amount', { currency: unit })}</label>
        <div className="wallet-input-row">
          <input
            id={`${ids}-amount`}
            data-testid="transfer-amount"
            inputMode="decimal"
            autoComplete="off"
            value={typed}
            aria-invalid={amountError !== null}
            onChange={(event) => setTyped(event.target.value)}
          />
          <button type="button" onClick={() => setTyped(available === '0' ? '' : available)}>
            {t('withdraw.max')}
          </button>
        </div>
        <span className="hint">
          {t('transfer.available', { available: fmt(available, precision), currency: unit })}
        </span>
        {amountError && (
          <span className="field-error" role="alert">
            {amountError}
          </span>
        )}
      </div>
      <OtpField id={`${ids}-otp`} testId="transfer-otp" value={otp} onValue={setOtp} disabled={!hasOtp} />
      {create.isError && <WalletError error={create.error} />}
      <button
        type="submit"
        className="primary"
        data-testid="transfer-submit"
        disabled={create.isPending || !hasOtp}
      >
        {t('transfer.submit')}
      </button>
    </form>
  );
}

function TransferHistory() {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const date = useDateFormat();
  const { precisionOf } = useCurrencyMap();
  const transfers = useTransfers();
  const rows = transfers.data ?? [];
  const columns = useHistoryColumns();
  const direction = { label: t('transfer.direction') };
  const counterpart = { label: t('transfer.counterpart') };
  return (
    <section className="wallet-history" aria-labelledby="transfer-history">
      <h3 id="transfer-history">{t('transfer.history')}</h3>
      <ListStatus query={transfers} rows={rows.length} empty={t('transfer.none')} />
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="wallet-table">
            <TableHead columns={[columns.date, direction, counterpart, columns.amount, columns.state]} />
            <tbody>
              {rows.map((transfer) => {
                const out = transfer.direction === 'out';
                const other = out
                  ? (transfer.receiver_username ?? transfer.receiver_uid)
                  : (transfer.sender_username ?? transfer.sender_uid);
                return (
                  <tr
                    key={transfer.id}
                    data-testid="transfer-row"
                    data-direction={transfer.direction}
                    data-state={transfer.status}
                    data-amount={transfer.amount}
                  >
                    <Cell {...columns.date}>{date(transfer.created_at)}</Cell>
                    <Cell {...direction}>{out ? t('transfer.sent') : t('transfer.received')}</Cell>
                    <Cell {...counterpart} className="wallet-mono">
                      {other}
                    </Cell>
                    <Cell {...columns.amount} className={out ? 'change-down' : 'change-up'}>
                      {out ? '−' : '+'}
                      {fmt(transfer.amount, precisionOf(transfer.currency))} {transfer.currency.toUpperCase()}
                    </Cell>
                    <Cell {...columns.state}>
                      <StateBadge
                        state={transfer.status}
                        label={t(`transferState.${transfer.status}`, { defaultValue: transfer.status })}
                      />
                    </Cell>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
