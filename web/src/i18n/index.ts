import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en, { enErrors } from './en';
import { ERRORS_NS } from './errors';
import fr, { frErrors } from './fr';
import * as account from './areas/account';
import * as orders from './areas/orders';
import * as trade from './areas/trade';
import * as wallet from './areas/wallet';
import * as demoFunds from '../pages/wallet/demoFundsWords';

export const LANGUAGES = ['en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];
export const LANGUAGE_KEY = 'bursa.language';

function isLanguage(value: string | null | undefined): value is Language {
  return (LANGUAGES as readonly string[]).includes(value ?? '');
}

/** The remembered language, else the browser's if we have it, else English. */
export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(LANGUAGE_KEY);
    if (isLanguage(saved)) return saved;
  } catch {
    // Storage disabled: fall through to the browser's language.
  }
  const browser = typeof navigator !== 'undefined' ? navigator.language.slice(0, 2) : 'en';
  return isLanguage(browser) ? browser : 'en';
}

export function setLanguage(language: Language): void {
  void i18n.changeLanguage(language);
  try {
    localStorage.setItem(LANGUAGE_KEY, language);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

i18n.on('languageChanged', (language) => {
  document.documentElement.lang = language;
});

void i18n.use(initReactI18next).init({
  resources: {
    en: {
      translation: en,
      trade: trade.en,
      orders: orders.en,
      wallet: { ...wallet.en, ...demoFunds.en },
      account: account.en,
      [ERRORS_NS]: {
        ...enErrors,
        ...trade.enErrors,
        ...orders.enErrors,
        ...wallet.enErrors,
        ...demoFunds.enErrors,
        ...account.enErrors,
      },
    },
    fr: {
      translation: fr,
      trade: trade.fr,
      orders: orders.fr,
      wallet: { ...wallet.fr, ...demoFunds.fr },
      account: account.fr,
      [ERRORS_NS]: {
        ...frErrors,
        ...trade.frErrors,
        ...orders.frErrors,
        ...wallet.frErrors,
        ...demoFunds.frErrors,
        ...account.frErrors,
      },
    },
  },
  lng: initialLanguage(),
  fallbackLng: 'en',
  supportedLngs: LANGUAGES,
  interpolation: { escapeValue: false }, // React escapes already.
  returnNull: false,
});

export default i18n;
