import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import { useSession, type User } from '../../api/session';
import { RESEND_INTERVAL_S } from './accountApi';
import { CheckedForm, CodeField, FormError, SubmitButton, SuccessNotice } from './fields';
import { useCodeEntry } from './useCodeEntry';
import { secondsLeft } from './validation';

/** The countdown to the next allowed send, ticking each second while it runs. */
function useCountdown(sentAt: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  const left = secondsLeft(sentAt, now, RESEND_INTERVAL_S);
  useEffect(() => {
    if (left <= 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [left]);
  return left;
}

/**
 * "We sent a code to …": the mailed six-digit code confirms the address (and opens a fresh
 * session, whose user and CSRF token replace the current ones). `sentAt` is when the last
 * mail left (null: unknown, e.g. a member who signed in later), for the resend countdown.
 */
export function EmailCodeStep({
  email,
  sentAt: firstSentAt,
  onConfirmed,
}: {
  email: string;
  sentAt: number | null;
  onConfirmed: (user: User) => void;
}) {
  const { t } = useTranslation('account');
  const session = useSession();
  const code = useCodeEntry();
  const [sentAt, setSentAt] = useState(firstSentAt);
  const wait = useCountdown(sentAt);

  const confirm = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/barong/identity/users/email/confirm_code', { body: { token: code.value, email } }),
      ),
    onSuccess: (user) => {
      session.signedIn(user);
      onConfirmed(user);
    },
  });
  const resend = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/barong/identity/users/email/generate_code', {
          body: { email, captcha_response: null },
        }),
      ),
    onSuccess: () => setSentAt(Date.now()),
  });

  return (
    <div className="account-step">
      <h2>{t('confirm.title')}</h2>
      <p>{t('confirm.sent', { email })}</p>
      <CheckedForm onSubmit={() => code.submit(() => confirm.mutate())}>
        <CodeField id="confirm-code" label={t('confirm.code')} {...code.field} autoFocus required />
        <FormError error={confirm.error} />
        <div className="actions">
          <SubmitButton testId="confirm-submit" disabled={confirm.isPending}>
            {confirm.isPending ? t('confirm.checking') : t('confirm.submit')}
          </SubmitButton>
          <button
            type="button"
            data-testid="confirm-resend"
            disabled={wait > 0 || resend.isPending}
            onClick={() => resend.mutate()}
          >
            {wait > 0 ? t('confirm.resendIn', { seconds: wait }) : t('confirm.resend')}
          </button>
        </div>
      </CheckedForm>
      {resend.isSuccess && wait > 0 && <SuccessNotice>{t('confirm.resent', { email })}</SuccessNotice>}
      <FormError error={resend.error} />
      <p className="hint muted account-hint">{t('confirm.noMail')}</p>
    </div>
  );
}
