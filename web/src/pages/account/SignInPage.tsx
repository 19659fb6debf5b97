import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api, ApiError, unwrap } from '../../api/client';
import { useSession } from '../../api/session';
import { nextPath } from '../../lib/next';
import { AuthPage, SignedOutOnly } from './AuthPage';
import { CheckedForm, CodeField, FormError, SubmitButton, TextField } from './fields';
import { isSixDigits } from './validation';
import './account.css';

const MISSING_OTP = 'identity.session.missing_otp';

function needsOtp(error: unknown): boolean {
  return error instanceof ApiError && error.codes.includes(MISSING_OTP);
}

/**
 * Sign in: email and password; when the account has 2FA the API answers
 * `identity.session.missing_otp`, and the same form asks for the code and sends again.
 * A member whose address is still unconfirmed is asked for the mailed code.
 */
export default function SignInPage() {
  const { t } = useTranslation('account');
  const session = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const next = nextPath(location.search, '/trading');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [askOtp, setAskOtp] = useState(false);
  const [tried, setTried] = useState(false);

  const signIn = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/barong/identity/sessions', {
          body: { email: email.trim(), password, otp_code: askOtp ? otp : null, captcha_response: null },
        }),
      ),
    onSuccess: (user) => {
      session.signedIn(user);
      if (user.state !== 'pending') navigate(next, { replace: true });
    },
    onError: (error) => {
      if (needsOtp(error)) setAskOtp(true);
    },
  });

  const otpMissing = askOtp && !isSixDigits(otp);
  // Asking for the code is the normal second step, not a failure to show as one.
  const error = needsOtp(signIn.error) ? null : signIn.error;

  return (
    <SignedOutOnly
      title={t('signIn.title')}
      next={next}
      sentAt={null}
      notice={<p className="notice notice-warning">{t('signIn.unconfirmed')}</p>}
    >
      <AuthPage title={t('signIn.title')}>
        <CheckedForm
          className="card"
          onSubmit={() => {
            setTried(true);
            if (!email.trim() || !password || otpMissing) return;
            signIn.mutate();
          }}
        >
          <TextField
            id="signin-email"
            label={t('field.email')}
            type="email"
            autoComplete="username"
            required
            value={email}
            onValue={(value) => {
              setEmail(value);
              setAskOtp(false);
            }}
            problem={tried && !email.trim() ? t('problem.required') : null}
          />
          <TextField
            id="signin-password"
            label={t('field.password')}
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onValue={setPassword}
            problem={tried && !password ? t('problem.required') : null}
          />
          {askOtp && (
            <>
              <p className="notice" id="signin-otp-help">
                {t('signIn.otpNeeded')}
              </p>
              <CodeField
                id="signin-otp"
                label={t('field.otp')}
                value={otp}
                onValue={setOtp}
                problem={tried && otpMissing ? t('code.sixDigits') : null}
                autoFocus
                required
              />
            </>
          )}
          <FormError error={error} />
          <SubmitButton testId="signin-submit" className="primary account-submit" disabled={signIn.isPending}>
            {signIn.isPending ? t('signIn.submitting') : t('signIn.submit')}
          </SubmitButton>
          <p className="account-alt">
            <Link to="/forgot_password">{t('signIn.forgot')}</Link>
          </p>
          <p className="muted account-alt">
            {t('signIn.noAccount')} <Link to={`/signup${location.search}`}>{t('signUp.link')}</Link>
          </p>
        </CheckedForm>
      </AuthPage>
    </SignedOutOnly>
  );
}
