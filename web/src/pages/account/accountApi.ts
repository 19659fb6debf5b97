import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { readVerdict, totalOf, type Area, type PasswordVerdict } from './validation';

export type ApiKey = components['schemas']['ApiKey'];
export type Activity = components['schemas']['Activity'];
export type Phone = components['schemas']['Phone'];
export type Profile = components['schemas']['Profile'];
export type KycDocument = components['schemas']['Document'];

/** One page of a paged list, with the `Total` the API sends in a header. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** Like `unwrap`, keeping the `Total` header of a paged answer. */
export async function unwrapPage<T>(
  call: Promise<{ data?: T[]; error?: unknown; response: Response }>,
): Promise<Page<T>> {
  const items = await unwrap(call);
  const { response } = await call;
  return { items, total: totalOf(response.headers) };
}

/**
 * Seconds between two mailed or texted codes: the server answers 201 to an early request
 * but sends nothing (`CODE_RESEND_INTERVAL` in `bursa.identity.service`); no endpoint tells it.
 */
export const RESEND_INTERVAL_S = 60;

/** Barong's password policy (`configs`): the minimum length and entropy the meter shows. */
export interface PasswordPolicy {
  minLength: number;
  minEntropy: number;
}

const DEFAULT_POLICY: PasswordPolicy = { minLength: 8, minEntropy: 30 };

export function usePasswordPolicy(): PasswordPolicy {
  const configs = useQuery({
    queryKey: ['public', 'barong-configs'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v2/barong/identity/configs', { signal })),
    staleTime: 10 * 60_000,
  });
  const data = configs.data as Record<string, unknown> | undefined;
  const minLength = data?.password_min_length;
  const minEntropy = data?.password_min_entropy;
  return {
    minLength: typeof minLength === 'number' ? minLength : DEFAULT_POLICY.minLength,
    minEntropy: typeof minEntropy === 'number' ? minEntropy : DEFAULT_POLICY.minEntropy,
  };
}

export type StrengthState =
  | { status: 'idle' }
  | { status: 'checking' }
  | { status: 'done'; verdict: PasswordVerdict }
  | { status: 'failed' };

const STRENGTH_DEBOUNCE_MS = 400;

/**
 * Barong's verdict on `password` (`password/validate`), asked once typing pauses: the check
 * is rate-limited per address (30 a minute), so not at every key.
 */
export function usePasswordStrength(password: string): StrengthState {
  // The last answer and the password it was for: a newer password is "checking" until its own.
  const [answer, setAnswer] = useState<{ password: string; verdict: PasswordVerdict | null } | null>(null);
  useEffect(() => {
    if (!password) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      unwrap(
        api.POST('/api/v2/barong/identity/password/validate', {
          body: { password },
          signal: controller.signal,
        }),
      )
        .then((body) => setAnswer({ password, verdict: readVerdict(body) }))
        .catch((error: unknown) => {
          if (!(error instanceof DOMException && error.name === 'AbortError')) {
            setAnswer({ password, verdict: null });
          }
        });
    }, STRENGTH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [password]);
  if (!password) return { status: 'idle' };
  if (answer?.password !== password) return { status: 'checking' };
  return answer.verdict ? { status: 'done', verdict: answer.verdict } : { status: 'failed' };
}

/** The lowest KYC level of each area on this exchange (`public/member-levels`). */
export function useMemberLevels() {
  return useQuery({
    queryKey: ['public', 'member-levels'],
    queryFn: async ({ signal }): Promise<Record<Area, number>> => {
      const levels = await unwrap(api.GET('/api/v2/peatio/public/member-levels', { signal }));
      return {
        trading: levels.trading.minimum_level,
        deposit: levels.deposit.minimum_level,
        withdraw: levels.withdraw.minimum_level,
      };
    },
    staleTime: 10 * 60_000,
  });
}
