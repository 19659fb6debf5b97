import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { useSession } from '../../api/session';
import { nextPath } from '../../lib/next';
import { EmailCodeStep } from './EmailCodeStep';
import { FormError, PasswordStrength, TextField } from './fields';
import { looksLikeEmail, meetsPasswordRule, passwordRule, passwordsMatch } from './validation';
import './account.css';

/**
 * Sign up: email, password (Barong's strength verdict as the member types), the terms; the
 * API answers the new member with a session, then the mailed code confirms the address. A
 * signed-in member whose address is not confirmed yet lands on the code step.
 */
export default function SignUpPage() {
  const { t } = useTranslation('account');
  const session = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const next = nextPath(location.search, '/trading');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [terms, setTerms] = useState(false);
  const [tried, setTried] = useState(false);
  const [sentAt, setSentAt] = useState<number | null>(null);

  const signUp = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/barong/identity/users', {
          body: {
            email: email.trim(),
            password,
            captcha_response: null,
            data: null,
            refid: null,
            username: null,
          },
        }),
      ),
    onSuccess: (user) => {
      setSentAt(Date.now());
      session.signedIn(user);
    },
  });

  if (session.status === 'loading') return <p className="page muted">{t('loading')}</p>;
  const user = session.user;
  if (session.status === 'signedIn' && user) {
    if (user.state !== 'pending') return <Navigate to={next} replace />;
    return (
      <section className="page narrow account-auth">
        <h1>{t('signUp.title')}</h1>
        <div className="card">
          <EmailCodeStep email={user.email} sentAt={sentAt} onConfirmed={() => navigate(next)} />
        </div>
      </section>
    );
  }

  const problems = {
    email: looksLikeEmail(email) ? null : t('problem.email'),
    password: meetsPasswordRule(passwordRule(password)) ? null : t('problem.passwordRule'),
    confirmation: passwordsMatch(password, confirmation) ? null : t('problem.mismatch'),
    terms: terms ? null : t('problem.terms'),
  };
  const shown = (problem: string | null) => (tried ? problem : null);

  return (
    <section className="page narrow account-auth">
      <h1>{t('signUp.title')}</h1>
      <form
        className="card"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setTried(true);
          if (Object.values(problems).every((problem) => problem === null)) signUp.mutate();
        }}
      >
        <TextField
          id="signup-email"
          testId="signup-email"
          label={t('field.email')}
          type="email"
          autoComplete="email"
          required
          value={email}
          onValue={setEmail}
          problem={shown(problems.email)}
        />
        <TextField
          id="signup-password"
          testId="signup-password"
          label={t('field.password')}
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onValue={setPassword}
          problem={shown(problems.password)}
        />
        <PasswordStrength password={password} id="signup-strength" />
        <TextField
          id="signup-password-confirm"
          testId="signup-password-confirm"
          label={t('field.passwordConfirm')}
          type="password"
          autoComplete="new-password"
          required
          value={confirmation}
          onValue={setConfirmation}
          problem={confirmation || tried ? shown(problems.confirmation) : null}
        />
        <div className="field account-check">
          <label>
            <input
              type="checkbox"
              data-testid="signup-terms"
              checked={terms}
              aria-invalid={tried && !terms ? true : undefined}
              onChange={(event) => setTerms(event.target.checked)}
            />{' '}
            {t('signUp.terms')}
          </label>
          {shown(problems.terms) && <span className="field-error">{problems.terms}</span>}
        </div>
        <FormError error={signUp.error} />
        <button
          type="submit"
          className="primary account-submit"
          data-testid="signup-submit"
          disabled={signUp.isPending}
        >
          {signUp.isPending ? t('signUp.submitting') : t('signUp.submit')}
        </button>
        <p className="muted account-alt">
          {t('signUp.haveAccount')} <Link to={`/signin${location.search}`}>{t('signIn.link')}</Link>
        </p>
      </form>
    </section>
  );
}
