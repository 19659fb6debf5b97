/**
 * The wallet's server state: every member query is keyed under `'member'` (dropped at
 * sign-out), public lists under `'public'`. The private `deposit` and `withdraw` streams
 * invalidate the lists they change (their payloads carry no confirmations and no ids the
 * lists are keyed by), so a list always shows the server's figures.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, ApiError, errorCodes, unwrap } from '../../api/client';
import type { paths } from '../../api/schema';
import { privateRanger, useRangerStream } from '../../lib/ranger';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type Ok<P extends keyof paths, M extends 'get' | 'post' | 'patch'> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer B }
      ? Json<B>
      : never
  : never;

export type Currency = Ok<'/api/v2/peatio/public/currencies', 'get'>[number];
export type MemberLevels = Ok<'/api/v2/peatio/public/member-levels', 'get'>;
export type PaymentAddress = Ok<'/api/v2/peatio/account/deposit_address/{currency}', 'get'>;
export type Deposit = Ok<'/api/v2/peatio/account/deposits', 'get'>[number];
export type Beneficiary = Ok<'/api/v2/peatio/account/beneficiaries', 'get'>[number];
export type Withdraw = Ok<'/api/v2/peatio/account/withdraws', 'get'>[number];
export type WithdrawLimits = Ok<'/api/v2/peatio/account/withdraws/limits', 'get'>[number];
export type InternalTransfer = Ok<'/api/v2/peatio/account/internal_transfers', 'get'>[number];
export type Transaction = Ok<'/api/v2/peatio/account/transactions', 'get'>[number];

const WALLET = ['member', 'wallet'] as const;
export const walletKeys = {
  all: WALLET,
  address: (currency: string) => [...WALLET, 'deposit-address', currency] as const,
  deposits: (currency: string) => [...WALLET, 'deposits', currency] as const,
  beneficiaries: (currency: string) => [...WALLET, 'beneficiaries', currency] as const,
  withdraws: (currency: string) => [...WALLET, 'withdraws', currency] as const,
  limits: (currency: string) => [...WALLET, 'withdraw-limits', currency] as const,
  transfers: [...WALLET, 'transfers'] as const,
  transactions: [...WALLET, 'transactions'] as const,
};

/** Every listed currency, in the exchange's order (names, precision, fees, minimums). */
export function useCurrencies() {
  return useQuery({
    queryKey: ['public', 'currencies'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v2/peatio/public/currencies', { params: { query: { limit: 1000 } }, signal })),
    staleTime: 60_000,
  });
}

/** The lowest KYC level that may deposit, withdraw and trade. */
export function useMemberLevels() {
  return useQuery({
    queryKey: ['public', 'member-levels'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v2/peatio/public/member-levels', { signal })),
    staleTime: 5 * 60_000,
  });
}

export const ADDRESS_POLL_MS = 3_000;

/**
 * The member's deposit address for a coin. Bursa makes it on the first request and
 * answers `state: "active"`; a `pending` answer (an address still being made) is asked
 * again every few seconds until it carries the address.
 */
export function useDepositAddress(currency: string, enabled: boolean) {
  return useQuery({
    queryKey: walletKeys.address(currency),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/deposit_address/{currency}', {
          params: { path: { currency } },
          signal,
        }),
      ),
    enabled,
    retry: false,
    staleTime: Infinity,
    refetchInterval: (query) => {
      const data = query.state.data;
      return data && (data.state === 'pending' || !data.address) ? ADDRESS_POLL_MS : false;
    },
  });
}

export const CONFIRMATIONS_POLL_MS = 15_000;

/** A coin deposit still counting blocks (its confirmations change without an event). */
export function isConfirming(deposit: Deposit): boolean {
  return (
    deposit.min_confirmations !== null &&
    (deposit.state === 'submitted' || deposit.state === 'accepting') &&
    deposit.confirmations < deposit.min_confirmations
  );
}

/** The `deposit` / `withdraw` stream: any change refetches the lists under `prefix`. */
function useInvalidateOn(stream: 'deposit' | 'withdraw', prefix: readonly string[], enabled: boolean) {
  const queryClient = useQueryClient();
  const key = prefix.join('\u0000');
  const onMessage = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: key.split('\u0000') });
  }, [queryClient, key]);
  useRangerStream(privateRanger, enabled ? stream : null, onMessage);
}

/**
 * The member's deposits of a currency, newest first: refetched on every `deposit` event
 * (a new deposit, a state change) and, while one is still confirming, every 15 s (the
 * count of blocks grows with the chain, and no event says so).
 */
export function useDeposits(currency: string, enabled: boolean) {
  useInvalidateOn('deposit', [...WALLET, 'deposits'], enabled);
  return useQuery({
    queryKey: walletKeys.deposits(currency),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/deposits', {
          params: { query: { currency, limit: 100 } },
          signal,
        }),
      ),
    enabled,
    retry: false,
    refetchInterval: (query) => (query.state.data?.some(isConfirming) ? CONFIRMATIONS_POLL_MS : false),
  });
}

export function useBeneficiaries(currency: string) {
  return useQuery({
    queryKey: walletKeys.beneficiaries(currency),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/beneficiaries', {
          params: { query: { currency, limit: 1000 } },
          signal,
        }),
      ),
    retry: false,
  });
}

/** The member's withdrawals of a currency, refetched on every `withdraw` event. */
export function useWithdraws(currency: string, enabled: boolean) {
  useInvalidateOn('withdraw', [...WALLET, 'withdraws'], enabled);
  return useQuery({
    queryKey: walletKeys.withdraws(currency),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/withdraws', {
          params: { query: { currency, limit: 100 } },
          signal,
        }),
      ),
    enabled,
    retry: false,
  });
}

/** What counts against the currency's and the member's KYC limits now. */
export function useWithdrawLimits(currency: string, enabled: boolean) {
  useInvalidateOn('withdraw', [...WALLET, 'withdraw-limits'], enabled);
  return useQuery({
    queryKey: walletKeys.limits(currency),
    queryFn: async ({ signal }) => {
      const rows = await unwrap(
        api.GET('/api/v2/peatio/account/withdraws/limits', {
          params: { query: { currency } },
          signal,
        }),
      );
      return rows[0] ?? null;
    },
    enabled,
    retry: false,
  });
}

/** Bursa's platform currency (balances and KYC limits are valued in it), from `public/config`. */
export function usePlatformCurrency() {
  return useQuery({
    queryKey: ['public', 'platform-currency'],
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v2/peatio/public/config', { signal }))).platform_currency,
    staleTime: Infinity,
  });
}

export function useTransfers() {
  return useQuery({
    queryKey: walletKeys.transfers,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/internal_transfers', { params: { query: { limit: 100 } }, signal }),
      ),
    retry: false,
  });
}

/** Deposits and withdrawals of every currency, newest first (`deposit`/`withdraw` live). */
export function useTransactions(currency: string | null) {
  useInvalidateOn('deposit', [...WALLET, 'transactions'], true);
  useInvalidateOn('withdraw', [...WALLET, 'transactions'], true);
  return useQuery({
    queryKey: [...walletKeys.transactions, currency ?? ''],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v2/peatio/account/transactions', {
          params: { query: { limit: 100, ...(currency ? { currency } : {}) } },
          signal,
        }),
      ),
    retry: false,
  });
}

/** What a beneficiary's `data` says, in one line (a coin's address, a bank account). */
export function destinationOf(beneficiary: Beneficiary): string {
  const data = beneficiary.data as Record<string, unknown>;
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : '');
  if (text('address')) return text('address');
  return [text('full_name'), text('account_number'), text('bank_name')].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------------- writes

export interface NewBeneficiary {
  currency: string;
  name: string;
  description: string | null;
  data: Record<string, string>;
}

export function useBeneficiaryActions(currency: string) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: walletKeys.beneficiaries(currency) });
  const add = useMutation({
    mutationFn: (body: NewBeneficiary) => unwrap(api.POST('/api/v2/peatio/account/beneficiaries', { body })),
    onSuccess: refresh,
  });
  const activate = useMutation({
    mutationFn: ({ id, pin }: { id: number; pin: string }) =>
      unwrap(
        api.PATCH('/api/v2/peatio/account/beneficiaries/{id}/activate', {
          params: { path: { id } },
          body: { pin },
        }),
      ),
    onSuccess: refresh,
  });
  const resend = useMutation({
    mutationFn: async (id: number) => {
      const { error, response } = await api.PATCH('/api/v2/peatio/account/beneficiaries/{id}/resend_pin', {
        params: { path: { id } },
        body: {},
      });
      if (!response.ok) throw toApiError(error, response.status);
    },
  });
  const remove = useMutation({
    mutationFn: async (id: number) => {
      const { error, response } = await api.DELETE('/api/v2/peatio/account/beneficiaries/{id}', {
        params: { path: { id } },
      });
      if (!response.ok) throw toApiError(error, response.status);
    },
    onSuccess: refresh,
  });
  return { add, activate, resend, remove };
}

export interface NewWithdraw {
  currency: string;
  amount: string;
  beneficiary_id: number;
  otp: string;
  note: string | null;
}

export function useCreateWithdraw(currency: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewWithdraw) => unwrap(api.POST('/api/v2/peatio/account/withdraws', { body })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: walletKeys.withdraws(currency) });
      void queryClient.invalidateQueries({ queryKey: walletKeys.limits(currency) });
      void queryClient.invalidateQueries({ queryKey: ['member', 'balances'] });
    },
  });
}

export interface NewTransfer {
  currency: string;
  amount: string;
  username_or_uid: string;
  otp: string;
}

export function useCreateTransfer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewTransfer) =>
      unwrap(api.POST('/api/v2/peatio/account/internal_transfers', { body })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: walletKeys.transfers });
      void queryClient.invalidateQueries({ queryKey: ['member', 'balances'] });
    },
  });
}

/** A failed call without a typed body (204 endpoints), in `unwrap`'s error shape. */
function toApiError(body: unknown, status: number): ApiError {
  return new ApiError(errorCodes(body, status), status);
}
