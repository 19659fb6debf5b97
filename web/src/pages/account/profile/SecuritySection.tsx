import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import { CodeField, FormError, PasswordStrength, SuccessNotice, TextField } from '../fields';
import { isSixDigits, meetsPasswordRule, passwordRule, passwordsMatch } from '../validation';
import { TwoFactorCard } from './TwoFactorCard';

/** Password and two-factor authentication. */
export function SecuritySection() {
  return (
    <div className="account-sections">
      <TwoFactorCard />
      <ChangePasswordCard />
    </div>
  );
}

/** A new password (the old one, and the 2FA code when 2FA is on); other sessions end. */
function ChangePasswordCard() {
  const { t } = useTranslation('account');
  const { user } = useSession();
  const withOtp = user?.otp ?? false;
  const [old, setOld] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [otp, setOtp] = useState('');
  const [tried, setTried] = useState(false);

  const change = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT('/api/v2/barong/resource/users/password', {
          body: {
            old_password: old,
            new_password: password,
            confirm_password: confirmation,
            otp_code: withOtp ? otp : null,
          },
        }),
      ),
    onSuccess: () => {
      setOld('');
      setPassword('');
      setConfirmation('');
      setOtp('');
      setTried(false);
    },
  });

  const problems = {
    old: old ? null : t('problem.required'),
    password: meetsPasswordRule(passwordRule(password)) ? null : t('problem.passwordRule'),
    confirmation: passwordsMatch(password, confirmation) ? null : t('problem.mismatch'),
    otp: !withOtp || isSixDigits(otp) ? null : t('code.sixDigits'),
  };
  const shown = (problem: string | null) => (tried ? problem : null);
  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">{t('password.title')}</h2>
      <p className="muted">{t('password.intro')}</p>
      <form
        noValidate
        className="account-form"
        onSubmit={(event) => {
          event.preventDefault();
          setTried(true);
          change.reset();
          if (Object.values(problems).every((problem) => problem === null)) change.mutate();
        }}
      >
        <TextField
          id="password-old"
          testId="password-old"
          label={t('field.oldPassword')}
          type="password"
          autoComplete="current-password"
          required
          value={old}
          onValue={setOld}
          problem={shown(problems.old)}
        />
        <TextField
          id="password-new"
          testId="password-new"
          label={t('field.newPassword')}
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onValue={setPassword}
          problem={shown(problems.password)}
        />
        <PasswordStrength password={password} id="password-strength" />
        <TextField
          id="password-confirm"
          testId="password-confirm"
          label={t('field.passwordConfirm')}
          type="password"
          autoComplete="new-password"
          required
          value={confirmation}
          onValue={setConfirmation}
          problem={shown(problems.confirmation)}
        />
        {withOtp && (
          <CodeField
            id="password-otp"
            testId="password-otp"
            label={t('field.otp')}
            value={otp}
            onValue={setOtp}
            problem={shown(problems.otp)}
            required
          />
        )}
        <FormError error={change.error} />
        {change.isSuccess && <SuccessNotice>{t('password.done')}</SuccessNotice>}
        <button type="submit" className="primary" data-testid="password-submit" disabled={change.isPending}>
          {t('password.submit')}
        </button>
      </form>
    </section>
  );
}
