const en = {
  app: { name: 'Bursa', skip: 'Skip to content', nav: 'Main' },
  nav: {
    markets: 'Markets',
    trade: 'Trade',
    wallets: 'Wallet',
    orders: 'Orders',
    account: 'Account',
    signIn: 'Sign in',
    signUp: 'Sign up',
    signOut: 'Sign out',
  },
  language: { label: 'Language', en: 'English', fr: 'Français' },
  theme: { toDark: 'Switch to dark theme', toLight: 'Switch to light theme', dark: 'Dark', light: 'Light' },
  markets: {
    title: 'Markets',
    search: 'Search markets',
    searchPlaceholder: 'BTC, ETH/USDT…',
    market: 'Market',
    last: 'Last price',
    change: '24h change',
    volume: '24h volume',
    favourite: 'Favourite',
    addFavourite: 'Add {{market}} to favourites',
    removeFavourite: 'Remove {{market}} from favourites',
    loading: 'Loading markets…',
    empty: 'No market is listed yet.',
    noMatch: 'No market matches “{{query}}”.',
    count_one: '{{count}} market',
    count_other: '{{count}} markets',
    tickersStale: 'Prices could not be refreshed: {{error}}',
    noTicker: '—',
  },
  error: {
    title: 'Something went wrong',
    retry: 'Try again',
  },
  toast: { dismiss: 'Dismiss' },
  loading: 'Loading…',
  signInRequired: {
    title: 'Sign in to continue',
    body: 'This page shows your own account.',
    signIn: 'Sign in',
    signUp: 'Create an account',
  },
  notFound: { title: 'Page not found', back: 'Back to markets' },
};

export default en;
export type Messages = typeof en;

/** One sentence per API error code (flat keys: codes contain dots). */
export const enErrors: Record<string, string> = {
  'client.network_error': 'The exchange cannot be reached. Check your connection.',
  'client.unexpected_response': 'The exchange sent an answer that could not be read.',
  'http.404': 'Not found.',
  'http.429': 'Too many requests. Please wait a moment.',
  'http.500': 'The exchange had an internal error.',
  'http.502': 'The exchange is unavailable (bad gateway).',
  'http.503': 'The exchange is temporarily unavailable.',
  'jwt.decode_and_verify': 'Your session has expired. Please sign in again.',
  'authz.insufficient_scope': 'You are not allowed to do this.',
  'public.market.doesnt_exist': 'This market does not exist.',
  'public.market.invalid_base_unit': 'Unknown base currency.',
  'public.market.invalid_quote_unit': 'Unknown quote currency.',
  'public.pagination.invalid_limit': 'Invalid page size.',
  'public.pagination.invalid_page': 'Invalid page number.',
};
