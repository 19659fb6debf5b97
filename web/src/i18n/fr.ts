import type { Messages } from './en';

const fr: Messages = {
  app: { name: 'Bursa', skip: 'Aller au contenu', nav: 'Principal' },
  nav: {
    markets: 'Marchés',
    trade: 'Trader',
    wallets: 'Portefeuille',
    orders: 'Ordres',
    account: 'Compte',
    signIn: 'Connexion',
    signUp: 'Inscription',
    signOut: 'Déconnexion',
  },
  language: { label: 'Langue', en: 'English', fr: 'Français' },
  theme: {
    toDark: 'Passer au thème sombre',
    toLight: 'Passer au thème clair',
    dark: 'Sombre',
    light: 'Clair',
  },
  markets: {
    title: 'Marchés',
    search: 'Rechercher un marché',
    searchPlaceholder: 'BTC, ETH/USDT…',
    market: 'Marché',
    last: 'Dernier prix',
    change: 'Variation 24 h',
    volume: 'Volume 24 h',
    favourite: 'Favori',
    addFavourite: 'Ajouter {{market}} aux favoris',
    removeFavourite: 'Retirer {{market}} des favoris',
    loading: 'Chargement des marchés…',
    empty: 'Aucun marché n’est encore ouvert.',
    noMatch: 'Aucun marché ne correspond à « {{query}} ».',
    count_one: '{{count}} marché',
    count_other: '{{count}} marchés',
    tickersStale: 'Les prix n’ont pas pu être actualisés : {{error}}',
    noTicker: '—',
  },
  error: {
    title: 'Une erreur est survenue',
    retry: 'Réessayer',
  },
  toast: { dismiss: 'Fermer' },
  loading: 'Chargement…',
  signInRequired: {
    title: 'Connectez-vous pour continuer',
    body: 'Cette page montre votre propre compte.',
    signIn: 'Connexion',
    signUp: 'Créer un compte',
  },
  notFound: { title: 'Page introuvable', back: 'Retour aux marchés' },
};

export default fr;

/** One sentence per API error code (flat keys: codes contain dots). */
export const frErrors: Record<string, string> = {
  'client.network_error': 'La plateforme est injoignable. Vérifiez votre connexion.',
  'client.unexpected_response': 'La plateforme a envoyé une réponse illisible.',
  'http.404': 'Introuvable.',
  'http.429': 'Trop de requêtes. Patientez un instant.',
  'http.500': 'La plateforme a rencontré une erreur interne.',
  'http.502': 'La plateforme est indisponible (passerelle).',
  'http.503': 'La plateforme est momentanément indisponible.',
  'jwt.decode_and_verify': 'Votre session a expiré. Reconnectez-vous.',
  'authz.insufficient_scope': 'Vous n’avez pas le droit de faire cela.',
  'public.market.doesnt_exist': 'Ce marché n’existe pas.',
  'public.market.invalid_base_unit': 'Devise de base inconnue.',
  'public.market.invalid_quote_unit': 'Devise de cotation inconnue.',
  'public.pagination.invalid_limit': 'Taille de page invalide.',
  'public.pagination.invalid_page': 'Numéro de page invalide.',
};
