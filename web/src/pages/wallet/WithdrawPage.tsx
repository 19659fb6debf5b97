/**
 * Withdrawals of one currency: to an active beneficiary, with the fee (paid on top of the
 * amount), the currency's and the KYC-level limits, a 2FA code; then the member's
 * withdrawals with their states, live by the `withdraw` stream.
 */
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { balanceOf, useBalances } from '../../api/balances';
import { Cell, TableHead } from '../../components/table';
import { useToasts } from '../../lib/toasts';
import {
  maxWithdrawable,
  parseAmount,
  remainingOf,
  withdrawFigures,
  withdrawProblems,
  type WithdrawProblem,
} from './amounts';
import { BeneficiariesCard } from './Beneficiaries';
import { useAmountFormat, useCurrencyMap, useDateFormat, useHistoryColumns } from './format';
import { type Gate } from './gate';
import { CurrencyActionPage, ListStatus, OtpField, OtpNotice, StateBadge, WalletError } from './parts';
import {
  type Currency,
  destinationOf,
  useBeneficiaries,
  useCreateWithdraw,
  useWithdrawLimits,
  useWithdraws,
  type WithdrawLimits,
} from './walletApi';

export function WithdrawPage({ currency: code }: { currency: string }) {
  const { t } = useTranslation('wallet');
  return (
    <CurrencyActionPage code={code} action="withdraw">
      {(currency, gate) => (
        <>
          {!currency.withdrawal_enabled && (
            <p className="notice notice-warning">
              {t('withdraw.disabled', { currency: code.toUpperCase() })}
            </p>
          )}
          {!gate.hasOtp && <OtpNotice />}
          <div className="wallet-columns">
            <WithdrawForm currency={currency} gate={gate} />
            <BeneficiariesCard currency={currency} />
          </div>
          <WithdrawHistory currency={currency} gate={gate} />
        </>
      )}
    </CurrencyActionPage>
  );
}

function WithdrawForm({ currency, gate }: { currency: Currency; gate: Gate }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const toasts = useToasts();
  const ids = useId();
  const unit = currency.id.toUpperCase();
  const precision = currency.precision;
  const balances = useBalances();
  const beneficiaries = useBeneficiaries(currency.id);
  const limits = useWithdrawLimits(currency.id, true);
  const create = useCreateWithdraw(currency.id);
  const active = (beneficiaries.data ?? []).filter((b) => b.state === 'active');
  const [chosen, setChosen] = useState('');
  const [typed, setTyped] = useState('');
  const [otp, setOtp] = useState('');
  const [tried, setTried] = useState(false);

  const beneficiaryId = chosen || (active.length === 1 ? String(active[0]!.id) : '');
  const available = balanceOf(balances.data, currency.id)?.balance ?? '0';
  const fee = currency.withdraw_fee;
  const parsed = parseAmount(typed, precision);
  const figures = parsed.ok ? withdrawFigures(parsed.text, fee) : null;
  const problems: WithdrawProblem[] = parsed.ok
    ? withdrawProblems(parsed.value, rulesOf(currency, available, limits.data ?? null))
    : [];
  const amountError = !parsed.ok ? (tried || typed !== '' ? parsed.problem : null) : (problems[0] ?? null);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (!parsed.ok || problems.length > 0 || !beneficiaryId) return;
    create.mutate(
      {
        currency: currency.id,
        amount: parsed.text,
        beneficiary_id: Number(beneficiaryId),
        otp: otp.trim(),
        note: null,
      },
      {
        onSuccess: (made) => {
          setTyped('');
          setOtp('');
          setTried(false);
          toasts.push(
            t('withdraw.done', {
              amount: fmt(made.amount, precision),
              currency: unit,
              state: t(`withdrawState.${made.state}`, { defaultValue: made.state }),
            }),
            'success',
          );
        },
      },
    );
  };

  return (
    <form className="card wallet-card wallet-form" onSubmit={onSubmit} aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>{t('withdraw.formTitle')}</h3>
      <div className="field">
        <label htmlFor={`${ids}-beneficiary`}>{t('withdraw.beneficiary')}</label>
        <select
          id={`${ids}-beneficiary`}
          data-testid="withdraw-beneficiary"
          value={beneficiaryId}
          required
          onChange={(event) => setChosen(event.target.value)}
        >
          <option value="">
            {active.length === 0 ? t('withdraw.noActive') : t('withdraw.chooseBeneficiary')}
          </option>
          {active.map((b) => (
            <option key={b.id} value={String(b.id)}>
              {b.name} — {shorten(destinationOf(b))}
            </option>
          ))}
        </select>
        {tried && !beneficiaryId && <span className="field-error">{t('withdraw.needBeneficiary')}</span>}
      </div>

      <div className="field">
        <label htmlFor={`${ids}-amount`}>{t('withdraw.amount', { currency: unit })}</label>
        <div className="wallet-input-row">
          <input
            id={`${ids}-amount`}
            data-testid="withdraw-amount"
            inputMode="decimal"
            autoComplete="off"
            value={typed}
            aria-invalid={amountError !== null}
            aria-describedby={`${ids}-amount-hint${amountError ? ` ${ids}-amount-error` : ''}`}
            onChange={(event) => setTyped(event.target.value)}
          />
          <button type="button" onClick={() => setTyped(maxWithdrawable(available, fee, precision))}>
            {t('withdraw.max')}
          </button>
        </div>
        <span className="hint" id={`${ids}-amount-hint`}>
          {t('withdraw.availableHint', {
            available: fmt(available, precision),
            minimum: fmt(currency.min_withdraw_amount, precision),
            currency: unit,
          })}
        </span>
        {amountError && (
          <span className="field-error" id={`${ids}-amount-error`} role="alert">
            {t(`amount.${amountError}`, {
              precision,
              minimum: fmt(currency.min_withdraw_amount, precision),
              currency: unit,
            })}
          </span>
        )}
      </div>

      <dl className="wallet-facts wallet-summary">
        <dt>{t('withdraw.fee')}</dt>
        <dd data-testid="withdraw-fee" data-value={fee}>
          {fmt(fee, precision)} {unit}
        </dd>
        <dt>{t('withdraw.receive')}</dt>
        <dd data-testid="withdraw-receive" data-value={figures?.receive ?? ''}>
          {figures ? `${fmt(figures.receive, precision)} ${unit}` : '—'}
        </dd>
        <dt>{t('withdraw.total')}</dt>
        <dd data-testid="withdraw-total" data-value={figures?.total ?? ''}>
          {figures ? `${fmt(figures.total, precision)} ${unit}` : '—'}
        </dd>
      </dl>
      <p className="hint muted">{t('withdraw.feeOnTop')}</p>

      <LimitsSummary currency={currency} limits={limits.data ?? null} />
      {limits.isError && <WalletError error={limits.error} />}

      <OtpField
        id={`${ids}-otp`}
        testId="withdraw-otp"
        value={otp}
        onValue={setOtp}
        disabled={!gate.hasOtp}
        hint={t('withdraw.otpHint')}
      />

      {create.isError && (
        <WalletError error={create.error} levels={{ needed: gate.withdrawLevel, have: gate.level }} />
      )}
      <button
        type="submit"
        className="primary"
        data-testid="withdraw-submit"
        disabled={create.isPending || !gate.hasOtp || !currency.withdrawal_enabled}
      >
        {figures
          ? t('withdraw.submitAmount', { amount: fmt(figures.receive, precision), currency: unit })
          : t('withdraw.submit')}
      </button>
    </form>
  );
}

function rulesOf(currency: Currency, available: string, limits: WithdrawLimits | null) {
  return {
    fee: currency.withdraw_fee,
    minimum: currency.min_withdraw_amount,
    available,
    limit24h: limits?.limit_24_hours ?? currency.withdraw_limit_24h,
    used24h: limits?.last_24_hours ?? '0',
    limit72h: limits?.limit_72_hours ?? currency.withdraw_limit_72h,
    used72h: limits?.last_72_hours ?? '0',
  };
}

function shorten(text: string): string {
  return text.length > 28 ? `${text.slice(0, 12)}…${text.slice(-10)}` : text;
}

/** What is left of the currency's 24 h / 72 h limits and of the member's KYC limits. */
function LimitsSummary({ currency, limits }: { currency: Currency; limits: WithdrawLimits | null }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const { precisionOf } = useCurrencyMap();
  if (!limits) return null;
  const unit = currency.id.toUpperCase();
  const platform = limits.platform_currency.toUpperCase();
  const platformPrecision = precisionOf(limits.platform_currency);
  const left = (limit: string, used: string, precision: number, code: string) => {
    const remaining = remainingOf(limit, used);
    return remaining === null
      ? t('withdraw.limits.none')
      : t('withdraw.limits.left', {
          left: fmt(remaining, precision),
          limit: fmt(limit, precision),
          currency: code,
        });
  };
  return (
    <dl className="wallet-facts wallet-limits" data-testid="withdraw-limits">
      <dt>{t('withdraw.limits.day')}</dt>
      <dd>{left(limits.limit_24_hours, limits.last_24_hours, currency.precision, unit)}</dd>
      <dt>{t('withdraw.limits.threeDays')}</dt>
      <dd>{left(limits.limit_72_hours, limits.last_72_hours, currency.precision, unit)}</dd>
      <dt>{t('withdraw.limits.kycDay')}</dt>
      <dd>
        {limits.kyc_last_24_hours === null
          ? t('withdraw.limits.unpriced')
          : left(limits.kyc_limit_24_hour, limits.kyc_last_24_hours, platformPrecision, platform)}
      </dd>
      <dt>{t('withdraw.limits.kycMonth')}</dt>
      <dd>
        {limits.kyc_last_1_month === null
          ? t('withdraw.limits.unpriced')
          : left(limits.kyc_limit_1_month, limits.kyc_last_1_month, platformPrecision, platform)}
      </dd>
    </dl>
  );
}

const EXPLAINED = new Set([
  'prepared',
  'accepted',
  'processing',
  'skipped',
  'confirming',
  'errored',
  'failed',
]);

function WithdrawHistory({ currency, gate }: { currency: Currency; gate: Gate }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const date = useDateFormat();
  const withdraws = useWithdraws(currency.id, true);
  const unit = currency.id.toUpperCase();
  const rows = withdraws.data ?? [];
  const states = [...new Set(rows.map((w) => w.state))].filter((state) => EXPLAINED.has(state));
  const columns = useHistoryColumns();
  const destination = { label: t('withdraw.destination') };
  return (
    <section className="wallet-history" aria-labelledby="withdraw-history">
      <h3 id="withdraw-history">{t('withdraw.history')}</h3>
      <ListStatus
        query={withdraws}
        rows={rows.length}
        empty={t('withdraw.none')}
        levels={{ needed: gate.withdrawLevel, have: gate.level }}
      />
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="wallet-table">
            <TableHead
              columns={[columns.date, columns.amount, columns.fee, destination, columns.state, columns.txid]}
            />
            <tbody>
              {rows.map((withdraw) => (
                <tr
                  key={withdraw.id}
                  data-testid="withdraw-row"
                  data-state={withdraw.state}
                  data-amount={withdraw.amount}
                >
                  <Cell {...columns.date}>{date(withdraw.created_at)}</Cell>
                  <Cell {...columns.amount}>
                    {fmt(withdraw.amount, currency.precision)} {unit}
                  </Cell>
                  <Cell {...columns.fee}>{fmt(withdraw.fee, currency.precision)}</Cell>
                  <Cell {...destination} className="wallet-mono wallet-break">
                    {withdraw.rid}
                  </Cell>
                  <Cell {...columns.state}>
                    <StateBadge
                      state={withdraw.state}
                      label={t(`withdrawState.${withdraw.state}`, { defaultValue: withdraw.state })}
                      hint={
                        EXPLAINED.has(withdraw.state) ? t(`withdrawStateHint.${withdraw.state}`) : undefined
                      }
                    />
                    {withdraw.state === 'confirming' && withdraw.confirmations !== null && (
                      <span className="muted"> ({withdraw.confirmations})</span>
                    )}
                  </Cell>
                  <Cell {...columns.txid} className="wallet-mono wallet-break">
                    {withdraw.blockchain_txid ?? '—'}
                  </Cell>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {states.length > 0 && (
        <ul className="wallet-legend muted">
          {states.map((state) => (
            <li key={state}>
              <strong>{t(`withdrawState.${state}`)}</strong>: {t(`withdrawStateHint.${state}`)}
            </li>
          ))}
        </ul>
      )}
      <p className="hint muted">{t('withdraw.noCancel')}</p>
    </section>
  );
}
