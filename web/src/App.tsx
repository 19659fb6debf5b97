import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes } from 'react-router-dom';
import { Header } from './components/Header';
import { RequireSession } from './components/RequireSession';
import { MarketsPage } from './pages/MarketsPage';

// Each area is its own chunk: the markets page does not ship the chart or the forms.
const TradePage = lazy(() => import('./pages/trade/TradePage'));
const OrdersPage = lazy(() => import('./pages/trade/OrdersPage'));
const WalletPage = lazy(() => import('./pages/wallet/WalletPage'));
const SignInPage = lazy(() => import('./pages/account/SignInPage'));
const SignUpPage = lazy(() => import('./pages/account/SignUpPage'));
const ForgotPasswordPage = lazy(() => import('./pages/account/ForgotPasswordPage'));
const ConfirmationPage = lazy(() => import('./pages/account/ConfirmationPage'));
const PasswordResetPage = lazy(() => import('./pages/account/PasswordResetPage'));
const ProfilePage = lazy(() => import('./pages/account/ProfilePage'));

function NotFound() {
  const { t } = useTranslation();
  return (
    <section className="page">
      <h1>{t('notFound.title')}</h1>
      <Link to="/">{t('notFound.back')}</Link>
    </section>
  );
}

function Loading() {
  const { t } = useTranslation();
  return <p className="page muted">{t('loading')}</p>;
}

export function App() {
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<MarketsPage />} />
            <Route path="/markets" element={<MarketsPage />} />
            <Route path="/trading" element={<TradePage />} />
            <Route path="/trading/:market" element={<TradePage />} />
            <Route
              path="/orders"
              element={
                <RequireSession>
                  <OrdersPage />
                </RequireSession>
              }
            />
            <Route
              path="/wallets/*"
              element={
                <RequireSession>
                  <WalletPage />
                </RequireSession>
              }
            />
            <Route path="/signin" element={<SignInPage />} />
            <Route path="/signup" element={<SignUpPage />} />
            <Route path="/forgot_password" element={<ForgotPasswordPage />} />
            <Route path="/accounts/confirmation" element={<ConfirmationPage />} />
            <Route path="/accounts/password_reset" element={<PasswordResetPage />} />
            <Route
              path="/profile/*"
              element={
                <RequireSession>
                  <ProfilePage />
                </RequireSession>
              }
            />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
