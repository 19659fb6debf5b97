/** The frame of the pages a member meets before or while signing in, and their session gate. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate } from 'react-router-dom';
import { useSession } from '../../api/session';
import { EmailCodeStep } from './EmailCodeStep';

/** A narrow page with its title, then its card(s). */
export function AuthPage({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="page narrow account-auth">
      <h1>{title}</h1>
      {children}
    </section>
  );
}

/**
 * Sign-in and sign-up show their form (`children`) only to a signed-out visitor: a member
 * already in goes on to `next`, unless the address is still unconfirmed, in which case the
 * mailed-code step shows instead (after `notice`, when given).
 */
export function SignedOutOnly({
  title,
  next,
  sentAt,
  notice,
  children,
}: {
  title: string;
  next: string;
  /** When the last code was mailed from this page (for the resend wait), if it was. */
  sentAt: number | null;
  notice?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useTranslation('account');
  const session = useSession();
  const navigate = useNavigate();
  if (session.status === 'loading') return <p className="page muted">{t('loading')}</p>;
  const user = session.user;
  if (session.status === 'signedIn' && user) {
    if (user.state !== 'pending') return <Navigate to={next} replace />;
    return (
      <AuthPage title={title}>
        <div className="card">
          {notice}
          <EmailCodeStep email={user.email} sentAt={sentAt} onConfirmed={() => navigate(next)} />
        </div>
      </AuthPage>
    );
  }
  return children;
}
