import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { ResetPasswordForm } from './ResetPasswordForm';
import './account.css';

/** The mailed reset link (`?reset_token=…`): a new password, set with the link's token. */
export default function PasswordResetPage() {
  const { t } = useTranslation('account');
  const [params] = useSearchParams();
  const token = params.get('reset_token');
  return (
    <section className="page narrow account-auth">
      <h1>{t('reset.title')}</h1>
      <div className="card">
        {token ? (
          <ResetPasswordForm token={token} />
        ) : (
          <>
            <p role="alert" className="notice notice-error">
              {t('reset.noToken')}
            </p>
            <Link to="/forgot_password">{t('reset.askAgain')}</Link>
          </>
        )}
      </div>
    </section>
  );
}
