import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { ResetPasswordForm } from './ResetPasswordForm';
import { AuthPage } from './AuthPage';
import './account.css';

/** The mailed reset link (`?reset_token=…`): a new password, set with the link's token. */
export default function PasswordResetPage() {
  const { t } = useTranslation('account');
  const [params] = useSearchParams();
  const token = params.get('reset_token');
  return (
    <AuthPage title={t('reset.title')}>
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
    </AuthPage>
  );
}
