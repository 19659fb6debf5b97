import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { CheckedForm, FormError, SubmitButton, SuccessNotice, TextField } from './fields';
import { ResetPasswordForm } from './ResetPasswordForm';
import { looksLikeEmail } from './validation';
import { AuthPage } from './AuthPage';
import './account.css';

/**
 * Forgotten password: the API mails a code and a link (and answers the same whether or not
 * the address has an account); the member then types the code here or follows the link.
 */
export default function ForgotPasswordPage() {
  const { t } = useTranslation('account');
  const [email, setEmail] = useState('');
  const [tried, setTried] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const send = useMutation({
    mutationFn: (address: string) =>
      unwrap(
        api.POST('/api/v2/barong/identity/users/password/generate_code', {
          body: { email: address, captcha_response: null },
        }),
      ),
    onSuccess: (_answer, address) => setSentTo(address),
  });

  const problem = tried && !looksLikeEmail(email) ? t('problem.email') : null;
  return (
    <AuthPage title={t('forgot.title')}>
      {sentTo === null ? (
        <CheckedForm
          className="card"
          onSubmit={() => {
            setTried(true);
            if (looksLikeEmail(email)) send.mutate(email.trim());
          }}
        >
          <p>{t('forgot.intro')}</p>
          <TextField
            id="forgot-email"
            label={t('field.email')}
            type="email"
            autoComplete="email"
            required
            value={email}
            onValue={setEmail}
            problem={problem}
          />
          <FormError error={send.error} />
          <SubmitButton testId="forgot-submit" className="primary account-submit" disabled={send.isPending}>
            {t('forgot.submit')}
          </SubmitButton>
          <p className="account-alt">
            <Link to="/signin">{t('forgot.back')}</Link>
          </p>
        </CheckedForm>
      ) : (
        <div className="card">
          <SuccessNotice>{t('forgot.sent', { email: sentTo })}</SuccessNotice>
          <p className="hint muted account-hint">{t('confirm.noMail')}</p>
          <ResetPasswordForm email={sentTo} />
          <p className="account-alt">
            <button type="button" className="account-link" onClick={() => setSentTo(null)}>
              {t('forgot.other')}
            </button>
          </p>
        </div>
      )}
    </AuthPage>
  );
}
