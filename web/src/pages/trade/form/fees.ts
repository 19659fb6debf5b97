/**
 * The maker and taker fees a member's next order on a market gets: Peatio's rule, as
 * Bursa's engine applies it at placement — the most specific trading fee wins, group
 * before market: (market, group), (any market, group), (market, any group), (any, any).
 * `GET public/trading_fees` lists each market's own fees as an entry of the group `any`.
 */
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../../api/client';

export const ANY = 'any';
export const DEFAULT_GROUP = 'vip-0';

export interface FeeEntry {
  group: string;
  market_id: string;
  maker: string;
  taker: string;
}

export interface Fees {
  maker: string;
  taker: string;
}

/** The entry that applies to `group` on `market`, if any. */
export function feesFor(entries: readonly FeeEntry[], market: string, group: string): Fees | undefined {
  const candidates: [string, string][] = [
    [market, group],
    [ANY, group],
    [market, ANY],
    [ANY, ANY],
  ];
  for (const [marketId, groupName] of candidates) {
    const found = entries.find((entry) => entry.market_id === marketId && entry.group === groupName);
    if (found) return { maker: found.maker, taker: found.taker };
  }
  return undefined;
}

/** Every trading fee entry (public; 1000 is the API's cap, far beyond real schedules). */
function useFeeSchedule() {
  return useQuery({
    queryKey: ['public', 'trading_fees'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v2/peatio/public/trading_fees', { params: { query: { limit: 1000 } }, signal })),
    staleTime: 300_000,
  });
}

/** The member's fee group (`account/members/me`); signed out, the default group. */
function useMemberGroup(signedIn: boolean) {
  return useQuery({
    queryKey: ['member', 'peatio', 'me'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v2/peatio/account/members/me', { signal })),
    enabled: signedIn,
    staleTime: 300_000,
  });
}

/** The fees of `market` for the member (or a visitor); undefined while loading. */
export function useTradingFees(market: string, signedIn: boolean): Fees | undefined {
  const schedule = useFeeSchedule();
  const member = useMemberGroup(signedIn);
  if (!schedule.data) return undefined;
  const group = signedIn ? member.data?.group : DEFAULT_GROUP;
  return group === undefined ? undefined : feesFor(schedule.data, market, group);
}
