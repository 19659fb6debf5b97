import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { privateRanger, useRangerStream } from '../lib/ranger';
import { api, unwrap } from './client';
import type { paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

export type Balances = Json<paths['/api/v2/peatio/account/balances']['get']['responses']['200']>;
export type Balance = Balances[number];

export const BALANCES_KEY = ['member', 'balances'] as const;

/** The `balance` stream's message: the account as the REST API shows it. */
interface BalanceMessage {
  currency: string;
  balance: string;
  locked: string;
}

function isBalanceMessage(value: unknown): value is BalanceMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.currency === 'string' && typeof v.balance === 'string' && typeof v.locked === 'string';
}

/**
 * The member's balances (every currency, zero ones included), kept live by the private
 * `balance` stream: a trade, a lock or a deposit shows without a reload.
 */
export function useBalances(enabled = true) {
  const queryClient = useQueryClient();
  const onBalance = useCallback(
    (payload: unknown) => {
      if (!isBalanceMessage(payload)) return;
      queryClient.setQueryData<Balances>(BALANCES_KEY, (old) => {
        if (!old) return old;
        let found = false;
        const next = old.map((row) => {
          if (row.currency !== payload.currency) return row;
          found = true;
          return { ...row, balance: payload.balance, locked: payload.locked };
        });
        if (!found) void queryClient.invalidateQueries({ queryKey: BALANCES_KEY });
        return next;
      });
    },
    [queryClient],
  );
  useRangerStream(privateRanger, enabled ? 'balance' : null, onBalance);
  return useQuery({
    queryKey: BALANCES_KEY,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/balances', {
          params: { query: { limit: 1000, nonzero: false } },
          signal,
        }),
      ),
    enabled,
  });
}

/** One currency's balance from `useBalances`' list (undefined while loading). */
export function balanceOf(balances: Balances | undefined, currency: string): Balance | undefined {
  return balances?.find((row) => row.currency === currency);
}
