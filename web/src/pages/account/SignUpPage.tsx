import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { useSession } from '../../api/session';
import { nextPath } from '../../lib/next';
import { AuthPage, SignedOutOnly } from './AuthPage';
import { CheckedForm, FormError, NewPasswordFields, SubmitButton, TextField } from './fields';
import { looksLikeEmail, newPasswordProblems, noProblems } from './validation';
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

  const problems = {
    email: looksLikeEmail(email) ? null : t('problem.email'),
    ...newPasswordProblems(t, password, confirmation),
    terms: terms ? null : t('problem.terms'),
  };
  const shown = (problem: string | null) => (tried ? problem : null);

  return (
    <SignedOutOnly title={t('signUp.title')} next={next} sentAt={sentAt}>
      <AuthPage title={t('signUp.title')}>
        <CheckedForm
          className="card"
          onSubmit={() => {
            setTried(true);
            if (noProblems(problems)) signUp.mutate();
          }}
        >
          <TextField
            id="signup-email"
            label={t('field.email')}
            type="email"
            autoComplete="email"
            required
            value={email}
            onValue={setEmail}
            problem={shown(problems.email)}
          />
          <NewPasswordFields
            ids={{
              password: 'signup-password',
              strength: 'signup-strength',
              confirmation: 'signup-password-confirm',
            }}
            label={t('field.password')}
            password={password}
            confirmation={confirmation}
            onPassword={setPassword}
            onConfirmation={setConfirmation}
            problems={{
              password: shown(problems.password),
              confirmation: confirmation || tried ? shown(problems.confirmation) : null,
            }}
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
          <SubmitButton testId="signup-submit" className="primary account-submit" disabled={signUp.isPending}>
            {signUp.isPending ? t('signUp.submitting') : t('signUp.submit')}
          </SubmitButton>
          <p className="muted account-alt">
            {t('signUp.haveAccount')} <Link to={`/signin${location.search}`}>{t('signIn.link')}</Link>
          </p>
        </CheckedForm>
      </AuthPage>
    </SignedOutOnly>
  );
}
