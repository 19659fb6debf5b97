import type { FormHTMLAttributes, InputHTMLAttributes, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useToasts } from '../../lib/toasts';
import { usePasswordPolicy, usePasswordStrength } from './accountApi';
import { codeInput, meetsPasswordRule, passwordRule, strengthPercent } from './validation';

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value' | 'id'>;

interface TextFieldProps extends InputProps {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  hint?: ReactNode;
  /** A problem found before sending, shown under the field and tied to it. */
  problem?: string | null;
}

/** A labelled input with its hint and its problem, both read out with the field; its id is its test id. */
export function TextField({ id, label, value, onValue, hint, problem, ...input }: TextFieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const problemId = problem ? `${id}-problem` : undefined;
  const describedBy = [hintId, problemId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        {...input}
        id={id}
        value={value}
        data-testid={id}
        aria-invalid={problem ? true : undefined}
        aria-describedby={describedBy}
        onChange={(event) => onValue(event.target.value)}
      />
      {hint && (
        <span id={hintId} className="hint">
          {hint}
        </span>
      )}
      {problem && (
        <span id={problemId} className="field-error">
          {problem}
        </span>
      )}
    </div>
  );
}

/** A six-digit code (mailed, texted or from an authenticator app). */
export function CodeField(props: Omit<TextFieldProps, 'onValue'> & { onValue: (code: string) => void }) {
  const { onValue, ...rest } = props;
  return (
    <TextField
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      placeholder="123456"
      className="account-code"
      {...rest}
      onValue={(typed) => onValue(codeInput(typed))}
    />
  );
}

/** Barong's rule, part by part, and its strength estimate, as the member types. */
export function PasswordStrength({ password, id }: { password: string; id: string }) {
  const { t, i18n } = useTranslation('account');
  const policy = usePasswordPolicy();
  const strength = usePasswordStrength(password);
  if (!password) return null;
  const rule = passwordRule(password, policy.minLength);
  const parts = [
    ['length', rule.length, t('strength.length', { min: policy.minLength })],
    ['lower', rule.lower, t('strength.lower')],
    ['upper', rule.upper, t('strength.upper')],
    ['digit', rule.digit, t('strength.digit')],
    ['symbol', rule.symbol, t('strength.symbol')],
  ] as const;
  const verdict = strength.status === 'done' ? strength.verdict : null;
  const percent = verdict ? strengthPercent(verdict.entropy, policy.minEntropy) : 0;
  const kind = verdict?.result ?? 'pending';
  return (
    <div className="account-strength" id={id} aria-live="polite">
      <ul className="account-rule">
        {parts.map(([key, met, text]) => (
          <li key={key} className={met ? 'met' : 'unmet'}>
            <span aria-hidden="true">{met ? '✓' : '·'}</span> {text}
            <span className="visually-hidden">{met ? t('strength.met') : t('strength.unmet')}</span>
          </li>
        ))}
      </ul>
      {meetsPasswordRule(rule) && (
        <>
          <div
            className={`account-meter account-meter-${kind}`}
            role="meter"
            aria-label={t('strength.meter')}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
          >
            <span style={{ width: `${percent}%` }} />
          </div>
          <p className="account-verdict" data-testid="password-verdict" data-result={verdict?.result ?? ''}>
            {strength.status === 'checking' && t('strength.checking')}
            {strength.status === 'failed' && t('strength.unavailable')}
            {verdict && t(`strength.${verdict.result}`, { bits: verdict.entropy, needed: policy.minEntropy })}
            {/* zxcvbn's advice comes in English only. */}
            {verdict?.reason && verdict.result === 'weak' && i18n.resolvedLanguage === 'en' && (
              <> {verdict.reason}</>
            )}
          </p>
        </>
      )}
    </div>
  );
}

/**
 * A new password (Barong's rule and strength shown as the member types), then the same
 * again to confirm it; each element's id is also its `data-testid`.
 */
export function NewPasswordFields({
  ids,
  label,
  password,
  confirmation,
  onPassword,
  onConfirmation,
  problems,
}: {
  ids: { password: string; strength: string; confirmation: string };
  label: string;
  password: string;
  confirmation: string;
  onPassword: (password: string) => void;
  onConfirmation: (confirmation: string) => void;
  problems: { password: string | null; confirmation: string | null };
}) {
  const { t } = useTranslation('account');
  return (
    <>
      <TextField
        id={ids.password}
        label={label}
        type="password"
        autoComplete="new-password"
        required
        value={password}
        onValue={onPassword}
        problem={problems.password}
      />
      <PasswordStrength password={password} id={ids.strength} />
      <TextField
        id={ids.confirmation}
        label={t('field.passwordConfirm')}
        type="password"
        autoComplete="new-password"
        required
        value={confirmation}
        onValue={onConfirmation}
        problem={problems.confirmation}
      />
    </>
  );
}

/**
 * A form the page checks itself (`noValidate`: problems show under the fields, in the
 * member's language, not as the browser's bubbles); `onSubmit` runs instead of a page load.
 */
export function CheckedForm({
  onSubmit,
  ...form
}: Omit<FormHTMLAttributes<HTMLFormElement>, 'onSubmit' | 'noValidate'> & { onSubmit: () => void }) {
  return (
    <form
      {...form}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    />
  );
}

/** An account form's send button (`disabled` while its request is under way, mostly). */
export function SubmitButton({
  testId,
  disabled,
  className = 'primary',
  children,
}: {
  testId: string;
  disabled: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <button type="submit" className={className} data-testid={testId} disabled={disabled}>
      {children}
    </button>
  );
}

/** A form's success notice, read out politely. */
export function SuccessNotice({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="notice account-success">
      {children}
    </p>
  );
}

/** The API's refusal of a form, when there is one. */
export function FormError({ error }: { error: unknown }) {
  return error ? <ErrorNotice error={error} /> : null;
}

/** Copies `text` to the clipboard and says whether it worked. */
export function CopyButton({ text, testId }: { text: string; testId?: string }) {
  const { t } = useTranslation('account');
  const { push } = useToasts();
  return (
    <button
      type="button"
      data-testid={testId}
      onClick={() => {
        if (!navigator.clipboard) {
          push(t('copyFailed'), 'error');
          return;
        }
        navigator.clipboard.writeText(text).then(
          () => push(t('copied'), 'success'),
          () => push(t('copyFailed'), 'error'),
        );
      }}
    >
      {t('copy')}
    </button>
  );
}
