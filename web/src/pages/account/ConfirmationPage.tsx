import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { useSession } from '../../api/session';
import { FormError, SuccessNotice } from './fields';
import { AuthPage } from './AuthPage';
import './account.css';

/**
 * The mailed confirmation link (`?confirmation_token=…`): the token alone confirms the
 * address (Barong's form) and opens a session for its member.
 */
export default function ConfirmationPage() {
  const { t } = useTranslation('account');
  const [params] = useSearchParams();
  const token = params.get('confirmation_token');
  const session = useSession();
  const { signedIn } = session;
  const confirm = useMutation({
    mutationFn: (sent: string) =>
      unwrap(
        api.POST('/api/v2/barong/identity/users/email/confirm_code', { body: { token: sent, email: null } }),
      ),
    onSuccess: (user) => signedIn(user),
  });

  // The token is spent once: posted on arrival, never again on a re-render.
  const posted = useRef(false);
  const { mutate } = confirm;
  useEffect(() => {
    if (token && !posted.current) {
      posted.current = true;
      mutate(token);
    }
  }, [token, mutate]);

  return (
    <AuthPage title={t('confirmLink.title')}>
      <div className="card">
        {!token && (
          <p role="alert" className="notice notice-error">
            {t('confirmLink.noToken')}
          </p>
        )}
        {confirm.isPending && <p className="muted">{t('confirmLink.checking')}</p>}
        {confirm.isSuccess && (
          <>
            <SuccessNotice>{t('confirmLink.done', { email: confirm.data.email })}</SuccessNotice>
            <Link className="button primary" to="/trading">
              {t('confirmLink.start')}
            </Link>
          </>
        )}
        <FormError error={confirm.error} />
        {(confirm.isError || !token) && (
          <p>
            {session.status === 'signedIn' ? (
              <Link to="/signup">{t('confirmLink.typeCode')}</Link>
            ) : (
              <Link to="/signin">{t('confirmLink.signInToRetry')}</Link>
            )}
          </p>
        )}
      </div>
    </AuthPage>
  );
}
