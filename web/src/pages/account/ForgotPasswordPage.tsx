import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { FormError, SuccessNotice, TextField } from './fields';
import { ResetPasswordForm } from './ResetPasswordForm';
import { looksLikeEmail } from './validation';
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
    <section className="page narrow account-auth">
      <h1>{t('forgot.title')}</h1>
      {sentTo === null ? (
        <form
          className="card"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            setTried(true);
            if (looksLikeEmail(email)) send.mutate(email.trim());
          }}
        >
          <p>{t('forgot.intro')}</p>
          <TextField
            id="forgot-email"
            testId="forgot-email"
            label={t('field.email')}
            type="email"
            autoComplete="email"
            required
            value={email}
            onValue={setEmail}
            problem={problem}
          />
          <FormError error={send.error} />
          <button
            type="submit"
            className="primary account-submit"
            data-testid="forgot-submit"
            disabled={send.isPending}
          >
            {t('forgot.submit')}
          </button>
          <p className="account-alt">
            <Link to="/signin">{t('forgot.back')}</Link>
          </p>
        </form>
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
    </section>
  );
}
