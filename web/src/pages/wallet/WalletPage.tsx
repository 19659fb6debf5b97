/**
 * The member's wallet (`/wallets/*`): balances, deposits, withdrawals, transfers to other
 * members and the history of deposits and withdrawals, each its own nested route.
 */
import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Route, Routes, useLocation, useParams } from 'react-router-dom';
import { BalancesPage } from './BalancesPage';
import { DepositPage } from './DepositPage';
import { HistoryPage } from './HistoryPage';
import { TransferPage } from './TransferPage';
import { WithdrawPage } from './WithdrawPage';
import { useCurrencyMap } from './format';
import './wallet.css';

/** The currency in `/wallets/<code>/deposit|withdraw`, kept when moving between the two. */
function currentCurrency(pathname: string): string | null {
  const match = /^\/wallets\/([a-z0-9_]+)\/(?:deposit|withdraw)\/?$/i.exec(pathname);
  return match ? match[1]!.toLowerCase() : null;
}

function WalletNav() {
  const { t } = useTranslation('wallet');
  const { pathname } = useLocation();
  const currency = currentCurrency(pathname);
  const isDeposit = /\/deposit\/?$/.test(pathname);
  const isWithdraw = /\/withdraw\/?$/.test(pathname);
  const tabs = [
    { to: '/wallets', label: t('nav.balances'), current: pathname.replace(/\/$/, '') === '/wallets' },
    {
      to: currency ? `/wallets/${currency}/deposit` : '/wallets/deposit',
      label: t('nav.deposit'),
      current: isDeposit,
    },
    {
      to: currency ? `/wallets/${currency}/withdraw` : '/wallets/withdraw',
      label: t('nav.withdraw'),
      current: isWithdraw,
    },
    { to: '/wallets/transfer', label: t('nav.transfer'), current: pathname.startsWith('/wallets/transfer') },
    { to: '/wallets/history', label: t('nav.history'), current: pathname.startsWith('/wallets/history') },
  ];
  return (
    <nav className="wallet-tabs" aria-label={t('nav.label')}>
      {tabs.map((tab) => (
        <NavLink
          key={tab.label}
          to={tab.to}
          end
          className={tab.current ? 'active' : undefined}
          aria-current={tab.current ? 'page' : undefined}
        >
          {tab.label}
        </NavLink>
      ))}
    </nav>
  );
}

/** `/wallets/deposit` and `/wallets/withdraw`: the first currency that allows it. */
function FirstCurrency({ action }: { action: 'deposit' | 'withdraw' }) {
  const { t } = useTranslation('wallet');
  const { currencies } = useCurrencyMap();
  if (currencies.isPending) return <p className="muted">{t('common.loading')}</p>;
  const first = (currencies.data ?? []).find((c) =>
    action === 'deposit' ? c.deposit_enabled : c.withdrawal_enabled,
  );
  if (!first) return <p className="notice">{t(`${action}.noneOpen`)}</p>;
  return <Navigate to={`/wallets/${first.id}/${action}`} replace />;
}

/** The `:currency` of the route, lower case (the API's codes). */
function WithCurrency({ page: Page }: { page: (props: { currency: string }) => JSX.Element }) {
  const { currency = '' } = useParams();
  const code = currency.toLowerCase();
  return <Page key={code} currency={code} />;
}

export default function WalletPage() {
  const { t } = useTranslation('wallet');
  return (
    <section className="page wallet" aria-labelledby="wallet-title">
      <h1 id="wallet-title">{t('title')}</h1>
      <WalletNav />
      <Routes>
        <Route index element={<BalancesPage />} />
        <Route path="deposit" element={<FirstCurrency action="deposit" />} />
        <Route path="withdraw" element={<FirstCurrency action="withdraw" />} />
        <Route path="transfer" element={<TransferPage />} />
        <Route path="history" element={<HistoryPage />} />
        <Route path=":currency/deposit" element={<WithCurrency page={DepositPage} />} />
        <Route path=":currency/withdraw" element={<WithCurrency page={WithdrawPage} />} />
        <Route path="*" element={<Navigate to="/wallets" replace />} />
      </Routes>
    </section>
  );
}
