import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

export type MarketList = Json<paths['/api/v2/peatio/public/markets']['get']['responses']['200']>;
export type Market = MarketList[number];
export type Tickers = Json<paths['/api/v2/peatio/public/markets/tickers']['get']['responses']['200']>;
export type Ticker = Tickers[string];

/** Every listed spot market, in the exchange's `position` order (1000 is the API's cap). */
export function useMarkets() {
  return useQuery({
    queryKey: ['public', 'markets'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v2/peatio/public/markets', { params: { query: { limit: 1000 } }, signal })),
    staleTime: 60_000,
  });
}

export const TICKERS_REFRESH_MS = 5_000;

/** The 24-hour ticker of every market, by market id, refetched every 5 s. */
export function useTickers() {
  return useQuery({
    queryKey: ['public', 'markets', 'tickers'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v2/peatio/public/markets/tickers', { signal })),
    refetchInterval: TICKERS_REFRESH_MS,
  });
}
