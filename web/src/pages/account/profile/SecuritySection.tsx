import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import {
  CheckedForm,
  CodeField,
  FormError,
  NewPasswordFields,
  SubmitButton,
  SuccessNotice,
  TextField,
} from '../fields';
import { isSixDigits, newPasswordProblems, noProblems } from '../validation';
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
    ...newPasswordProblems(t, password, confirmation),
    otp: !withOtp || isSixDigits(otp) ? null : t('code.sixDigits'),
  };
  const shown = (problem: string | null) => (tried ? problem : null);
  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">{t('password.title')}</h2>
      <p className="muted">{t('password.intro')}</p>
      <CheckedForm
        className="account-form"
        onSubmit={() => {
          setTried(true);
          change.reset();
          if (noProblems(problems)) change.mutate();
        }}
      >
        <TextField
          id="password-old"
          label={t('field.oldPassword')}
          type="password"
          autoComplete="current-password"
          required
          value={old}
          onValue={setOld}
          problem={shown(problems.old)}
        />
        <NewPasswordFields
          ids={{ password: 'password-new', strength: 'password-strength', confirmation: 'password-confirm' }}
          label={t('field.newPassword')}
          password={password}
          confirmation={confirmation}
          onPassword={setPassword}
          onConfirmation={setConfirmation}
          problems={{ password: shown(problems.password), confirmation: shown(problems.confirmation) }}
        />
        {withOtp && (
          <CodeField
            id="password-otp"
            label={t('field.otp')}
            value={otp}
            onValue={setOtp}
            problem={shown(problems.otp)}
            required
          />
        )}
        <FormError error={change.error} />
        {change.isSuccess && <SuccessNotice>{t('password.done')}</SuccessNotice>}
        <SubmitButton testId="password-submit" disabled={change.isPending}>
          {t('password.submit')}
        </SubmitButton>
      </CheckedForm>
    </section>
  );
}
