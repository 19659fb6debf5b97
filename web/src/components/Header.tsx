import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, useLocation, useNavigate } from 'react-router-dom';
import { useSession } from '../api/session';
import { LANGUAGES, type Language, setLanguage } from '../i18n';
import { applyTheme, type Theme } from '../lib/theme';

export function Header() {
  const { t, i18n } = useTranslation();
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const session = useSession();
  const [theme, setTheme] = useState<Theme>(() =>
    document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light',
  );
  const nextTheme: Theme = theme === 'dark' ? 'light' : 'dark';

  return (
    <header className="header">
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <NavLink to="/" className="brand">
        {t('app.name')}
      </NavLink>
      <nav aria-label={t('app.nav')} className="nav">
        {/* The markets page is also the home page: its link is current on both. */}
        <NavLink
          to="/markets"
          className={({ isActive }) => (isActive || pathname === '/' ? 'active' : undefined)}
          aria-current={pathname === '/' ? 'page' : undefined}
        >
          {t('nav.markets')}
        </NavLink>
        <NavLink to="/trading">{t('nav.trade')}</NavLink>
        {session.status === 'signedIn' && (
          <>
            <NavLink to="/wallets">{t('nav.wallets')}</NavLink>
            <NavLink to="/orders">{t('nav.orders')}</NavLink>
            <NavLink to="/profile">{t('nav.account')}</NavLink>
          </>
        )}
      </nav>
      <div className="header-tools">
        {session.status === 'signedIn' && session.user && (
          <>
            <span className="muted header-user" data-testid="signed-in-as">
              {session.user.email}
            </span>
            <button
              type="button"
              onClick={() => {
                void session.signOut().then(() => navigate('/'));
              }}
            >
              {t('nav.signOut')}
            </button>
          </>
        )}
        {session.status === 'signedOut' && (
          <>
            <Link to="/signin">{t('nav.signIn')}</Link>
            <Link className="button primary" to="/signup">
              {t('nav.signUp')}
            </Link>
          </>
        )}
        <label className="visually-hidden" htmlFor="language">
          {t('language.label')}
        </label>
        <select
          id="language"
          value={i18n.resolvedLanguage ?? 'en'}
          onChange={(event) => setLanguage(event.target.value as Language)}
        >
          {LANGUAGES.map((language) => (
            <option key={language} value={language}>
              {language.toUpperCase()}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="theme-toggle"
          aria-label={t(nextTheme === 'dark' ? 'theme.toDark' : 'theme.toLight')}
          title={t(nextTheme === 'dark' ? 'theme.toDark' : 'theme.toLight')}
          onClick={() => {
            applyTheme(nextTheme);
            setTheme(nextTheme);
          }}
        >
          <span aria-hidden="true">{theme === 'dark' ? '☀' : '☾'}</span>
        </button>
      </div>
    </header>
  );
}
