import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { useSession } from '../api/session';

/** The member's pages: shown when signed in, else an invitation to sign in and come back. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { status } = useSession();
  const { pathname, search } = useLocation();
  if (status === 'loading') return <p className="page muted">{t('loading')}</p>;
  if (status === 'signedOut') {
    const next = encodeURIComponent(pathname + search);
    return (
      <section className="page narrow">
        <h1>{t('signInRequired.title')}</h1>
        <p>{t('signInRequired.body')}</p>
        <p className="actions">
          <Link className="button primary" to={`/signin?next=${next}`}>
            {t('signInRequired.signIn')}
          </Link>
          <Link className="button" to="/signup">
            {t('signInRequired.signUp')}
          </Link>
        </p>
      </section>
    );
  }
  return <>{children}</>;
}
