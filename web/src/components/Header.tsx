import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, useLocation } from 'react-router-dom';
import { LANGUAGES, type Language, setLanguage } from '../i18n';
import { applyTheme, type Theme } from '../lib/theme';

export function Header() {
  const { t, i18n } = useTranslation();
  const { pathname } = useLocation();
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
      </nav>
      <div className="header-tools">
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
