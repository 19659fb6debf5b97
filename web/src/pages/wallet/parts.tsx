/** Small pieces every wallet page shares: currency names, the currency picker, notices. */
import { type ReactNode, useId } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { ErrorNotice } from '../../components/ErrorNotice';
import { codesOf } from '../../i18n/errors';
import { useCurrencyMap } from './format';
import { type Gate, useGate } from './gate';
import type { Currency } from './walletApi';

/** The currency's icon (or its initial) and code, with its name. */
export function CurrencyLabel({ code, currency }: { code: string; currency: Currency | undefined }) {
  return (
    <span className="wallet-currency">
      {currency?.icon_url ? (
        <img className="wallet-icon" src={currency.icon_url} alt="" width={24} height={24} />
      ) : (
        <span className="wallet-icon wallet-icon-letter" aria-hidden="true">
          {code.slice(0, 1).toUpperCase()}
        </span>
      )}
      <span className="wallet-currency-text">
        <strong>{code.toUpperCase()}</strong>
        {currency && currency.name.toLowerCase() !== code && (
          <span className="muted wallet-currency-name"> {currency.name}</span>
        )}
      </span>
    </span>
  );
}

/** A select of currencies that moves to `/wallets/<code>/<action>`. */
export function CurrencyPicker({
  currencies,
  value,
  action,
}: {
  currencies: readonly Currency[];
  value: string;
  action: 'deposit' | 'withdraw';
}) {
  const { t } = useTranslation('wallet');
  const navigate = useNavigate();
  const id = useId();
  return (
    <div className="field wallet-picker">
      <label htmlFor={id}>{t('common.currency')}</label>
      <select
        id={id}
        data-testid={`${action}-currency`}
        value={value}
        onChange={(event) => navigate(`/wallets/${event.target.value}/${action}`)}
      >
        <CurrencyOptions currencies={currencies} />
      </select>
    </div>
  );
}

/** One `<option>` a currency, shown as its code and name. */
export function CurrencyOptions({ currencies }: { currencies: readonly Currency[] }) {
  return (
    <>
      {currencies.map((currency) => (
        <option key={currency.id} value={currency.id}>
          {currency.id.toUpperCase()} — {currency.name}
        </option>
      ))}
    </>
  );
}

/**
 * A deposit or withdraw page of one currency: its title, the picker of the currencies open
 * for it, and, when the currency is known and the member's KYC level allows the action,
 * what `children` draw for it (otherwise the notice saying why not).
 */
export function CurrencyActionPage({
  code,
  action,
  children,
}: {
  code: string;
  action: 'deposit' | 'withdraw';
  children: (currency: Currency, gate: Gate) => ReactNode;
}) {
  const { t } = useTranslation('wallet');
  const { currencies, byCode } = useCurrencyMap();
  const gate = useGate();
  const currency = byCode.get(code);
  const enabled = (c: Currency) => (action === 'deposit' ? c.deposit_enabled : c.withdrawal_enabled);
  const open = (currencies.data ?? []).filter((c) => enabled(c) || c.id === code);
  const allowed = action === 'deposit' ? gate.canDeposit : gate.canWithdraw;
  const needed = action === 'deposit' ? gate.depositLevel : gate.withdrawLevel;

  if (currencies.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (currencies.isError)
    return <WalletError error={currencies.error} onRetry={() => void currencies.refetch()} />;

  return (
    <div className="wallet-section">
      <h2>{t(`${action}.title`, { currency: code.toUpperCase() })}</h2>
      <CurrencyPicker currencies={open} value={code} action={action} />
      {!currency && (
        <p className="notice notice-warning">{t('common.unknownCurrency', { currency: code })}</p>
      )}
      {currency && !allowed && <LevelNotice area={action} needed={needed} have={gate.level} />}
      {currency && allowed && children(currency, gate)}
    </div>
  );
}

/** The six-digit 2FA code a withdrawal or transfer is sent with. */
export function OtpField({
  id,
  testId,
  value,
  onValue,
  disabled,
  hint,
}: {
  id: string;
  testId: string;
  value: string;
  onValue: (code: string) => void;
  disabled: boolean;
  hint?: string;
}) {
  const { t } = useTranslation('wallet');
  return (
    <div className="field">
      <label htmlFor={id}>{t('withdraw.otp')}</label>
      <input
        id={id}
        data-testid={testId}
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={6}
        value={value}
        disabled={disabled}
        onChange={(event) => onValue(event.target.value.replace(/\D/g, ''))}
      />
      {hint && <span className="hint">{hint}</span>}
    </div>
  );
}

/**
 * Above a list of the member's records: "loading", the failure (with a retry), or
 * `empty` when there are none; nothing once there are rows to show.
 */
export function ListStatus({
  query,
  rows,
  empty,
  levels,
}: {
  query: { isPending: boolean; isError: boolean; isSuccess: boolean; error: unknown; refetch: () => unknown };
  rows: number;
  empty: string;
  levels?: { needed: number | null; have: number | null };
}) {
  const { t } = useTranslation('wallet');
  if (query.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (query.isError)
    return <WalletError error={query.error} onRetry={() => void query.refetch()} levels={levels} />;
  if (query.isSuccess && rows === 0) return <p className="muted">{empty}</p>;
  return null;
}

/** A state as a word, its code kept in `data-state` for styling and tests. */
export function StateBadge({ state, label, hint }: { state: string; label: string; hint?: string }) {
  return (
    <span className={`wallet-state wallet-state-${tone(state)}`} data-state={state} title={hint}>
      {label}
    </span>
  );
}

const DONE = new Set(['accepted', 'collected', 'succeed', 'completed', 'active']);
const STOPPED = new Set(['canceled', 'rejected', 'failed', 'errored', 'aml_suspicious']);

function tone(state: string): 'done' | 'stopped' | 'waiting' {
  if (DONE.has(state)) return 'done';
  if (STOPPED.has(state)) return 'stopped';
  return 'waiting';
}

/** Deposits or withdrawals need a higher KYC level: say which, and where to get it. */
export function LevelNotice({
  area,
  needed,
  have,
}: {
  area: 'deposit' | 'withdraw';
  needed: number | null;
  have: number | null;
}) {
  const { t } = useTranslation('wallet');
  return (
    <div role="alert" className="notice notice-warning" data-testid="kyc-required">
      <p>
        {needed !== null && have !== null
          ? t(`gate.level.${area}`, { needed, have })
          : t(`gate.level.${area}Unknown`)}
      </p>
      <Link className="button primary" to="/profile/verification">
        {t('gate.level.link')}
      </Link>
    </div>
  );
}

/** Withdrawals and transfers need two-factor authentication. */
export function OtpNotice() {
  const { t } = useTranslation('wallet');
  return (
    <div role="alert" className="notice notice-warning" data-testid="otp-required">
      <p>{t('gate.otp.body')}</p>
      <Link className="button primary" to="/profile/security">
        {t('gate.otp.link')}
      </Link>
    </div>
  );
}

const LEVEL_CODES: Record<string, 'deposit' | 'withdraw'> = {
  'account.deposit.not_permitted': 'deposit',
  'account.withdraw.not_permitted': 'withdraw',
};
const OTP_CODES = new Set(['account.withdraw.otp_not_enabled', 'account.internal_transfer.otp_not_enabled']);

/**
 * An API failure: a KYC level or 2FA refusal becomes the notice that says what to do
 * (with its link); anything else is the usual error notice.
 */
export function WalletError({
  error,
  onRetry,
  levels,
}: {
  error: unknown;
  onRetry?: () => void;
  levels?: { needed: number | null; have: number | null };
}) {
  const codes = codesOf(error);
  const level = codes.map((code) => LEVEL_CODES[code]).find((area) => area !== undefined);
  if (level) return <LevelNotice area={level} needed={levels?.needed ?? null} have={levels?.have ?? null} />;
  if (codes.some((code) => OTP_CODES.has(code))) return <OtpNotice />;
  return <ErrorNotice error={error} onRetry={onRetry} />;
}
