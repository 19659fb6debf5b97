import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { CodeField, FormError, PasswordStrength, SuccessNotice, TextField } from './fields';
import { isSixDigits, meetsPasswordRule, passwordRule, passwordsMatch } from './validation';

/**
 * A new password, set with the mailed reset code (and its address) or with the mailed
 * link's token alone; either ends every session of the member.
 */
export function ResetPasswordForm(
  props: { email: string; token?: undefined } | { token: string; email?: undefined },
) {
  const { t } = useTranslation('account');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [tried, setTried] = useState(false);
  const byCode = props.token === undefined;

  const reset = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/barong/identity/users/password/confirm_code', {
          body: {
            reset_password_token: byCode ? code : props.token,
            email: byCode ? props.email : null,
            password,
            confirm_password: confirmation,
          },
        }),
      ),
  });

  if (reset.isSuccess) {
    return (
      <div>
        <SuccessNotice>{t('reset.done')}</SuccessNotice>
        <Link className="button primary" to="/signin">
          {t('signIn.link')}
        </Link>
      </div>
    );
  }

  const problems = {
    code: !byCode || isSixDigits(code) ? null : t('code.sixDigits'),
    password: meetsPasswordRule(passwordRule(password)) ? null : t('problem.passwordRule'),
    confirmation: passwordsMatch(password, confirmation) ? null : t('problem.mismatch'),
  };
  const shown = (problem: string | null) => (tried ? problem : null);
  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        setTried(true);
        if (Object.values(problems).every((problem) => problem === null)) reset.mutate();
      }}
    >
      {byCode && (
        <CodeField
          id="reset-code"
          testId="reset-code"
          label={t('reset.code')}
          value={code}
          onValue={setCode}
          problem={shown(problems.code)}
          required
        />
      )}
      <TextField
        id="reset-password"
        testId="reset-password"
        label={t('field.newPassword')}
        type="password"
        autoComplete="new-password"
        required
        value={password}
        onValue={setPassword}
        problem={shown(problems.password)}
      />
      <PasswordStrength password={password} id="reset-strength" />
      <TextField
        id="reset-password-confirm"
        testId="reset-password-confirm"
        label={t('field.passwordConfirm')}
        type="password"
        autoComplete="new-password"
        required
        value={confirmation}
        onValue={setConfirmation}
        problem={shown(problems.confirmation)}
      />
      <FormError error={reset.error} />
      {reset.isError && !byCode && (
        <p>
          <Link to="/forgot_password">{t('reset.askAgain')}</Link>
        </p>
      )}
      <button
        type="submit"
        className="primary account-submit"
        data-testid="reset-submit"
        disabled={reset.isPending}
      >
        {t('reset.submit')}
      </button>
    </form>
  );
}
