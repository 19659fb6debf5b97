/** Small pieces every wallet page shares: currency names, the currency picker, notices. */
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { ErrorNotice } from '../../components/ErrorNotice';
import { codesOf } from '../../i18n/errors';
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
        {currencies.map((currency) => (
          <option key={currency.id} value={currency.id}>
            {currency.id.toUpperCase()} — {currency.name}
          </option>
        ))}
      </select>
    </div>
  );
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
