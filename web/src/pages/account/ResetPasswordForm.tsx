import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { CheckedForm, CodeField, FormError, NewPasswordFields, SubmitButton, SuccessNotice } from './fields';
import { isSixDigits, newPasswordProblems, noProblems } from './validation';

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
    ...newPasswordProblems(t, password, confirmation),
  };
  const shown = (problem: string | null) => (tried ? problem : null);
  return (
    <CheckedForm
      onSubmit={() => {
        setTried(true);
        if (noProblems(problems)) reset.mutate();
      }}
    >
      {byCode && (
        <CodeField
          id="reset-code"
          label={t('reset.code')}
          value={code}
          onValue={setCode}
          problem={shown(problems.code)}
          required
        />
      )}
      <NewPasswordFields
        ids={{
          password: 'reset-password',
          strength: 'reset-strength',
          confirmation: 'reset-password-confirm',
        }}
        label={t('field.newPassword')}
        password={password}
        confirmation={confirmation}
        onPassword={setPassword}
        onConfirmation={setConfirmation}
        problems={{ password: shown(problems.password), confirmation: shown(problems.confirmation) }}
      />
      <FormError error={reset.error} />
      {reset.isError && !byCode && (
        <p>
          <Link to="/forgot_password">{t('reset.askAgain')}</Link>
        </p>
      )}
      <SubmitButton testId="reset-submit" className="primary account-submit" disabled={reset.isPending}>
        {t('reset.submit')}
      </SubmitButton>
    </CheckedForm>
  );
}
