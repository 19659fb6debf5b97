/**
 * The words of the demo funds card (`DemoFunds.tsx`), to merge into the `wallet` namespace
 * (`useTranslation('wallet')`: keys `demoFunds.*`), and the sentences of the API error codes
 * a claim can meet, to merge into the `errors` namespace (flat keys: codes contain dots).
 * `server.engine_unavailable` and the `authz.*` codes already have theirs.
 */
export const en = {
  demoFunds: {
    title: 'Demo funds',
    intro: 'This is a demo exchange: get demo funds to try trading.',
    listLabel: 'You will receive',
    claim: 'Get demo funds',
    claiming: 'Crediting…',
    granted: 'Demo funds credited to your balances.',
  },
};

export const fr: typeof en = {
  demoFunds: {
    title: 'Fonds de démonstration',
    intro:
      'Ceci est une plateforme de démonstration\u00a0: recevez des fonds fictifs pour essayer le trading.',
    listLabel: 'Vous recevrez',
    claim: 'Recevoir les fonds de démonstration',
    claiming: 'Crédit en cours…',
    granted: 'Les fonds de démonstration ont été crédités sur vos soldes.',
  },
};

export const enErrors: Record<string, string> = {
  'account.demo_funds.disabled': 'This exchange does not give demo funds.',
  'account.demo_funds.already_granted': 'You have already received your demo funds.',
  'account.demo_funds.refused': 'The demo funds could not be credited. Please contact support.',
};

export const frErrors: Record<string, string> = {
  'account.demo_funds.disabled': 'Cette plateforme ne donne pas de fonds de démonstration.',
  'account.demo_funds.already_granted': 'Vous avez déjà reçu vos fonds de démonstration.',
  'account.demo_funds.refused':
    'Les fonds de démonstration n’ont pas pu être crédités. Contactez le support.',
};
