import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, type ReactNode } from 'react';
import { api, ApiError, unwrap } from '../api/client';
import { rememberCsrf } from '../api/csrf';
import {
  ME_KEY,
  MEMBER_KEY,
  SessionContext,
  type Session,
  type SessionStatus,
  type User,
} from '../api/session';
import { privateRanger } from '../lib/ranger';

/** `users/me`, or null when nobody is signed in (401). */
async function fetchMe(signal: AbortSignal): Promise<User | null> {
  try {
    const user = await unwrap(api.GET('/api/v2/barong/resource/users/me', { signal }));
    if (user.csrf_token) rememberCsrf(user.csrf_token);
    return user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      rememberCsrf(null);
      return null;
    }
    throw error;
  }
}

/** Who is signed in, shared by every page: one `users/me` query. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const me = useQuery({
    queryKey: ME_KEY,
    queryFn: ({ signal }) => fetchMe(signal),
    staleTime: 60_000,
    retry: 1,
  });

  const signedIn = useCallback(
    (user: User) => {
      rememberCsrf(user.csrf_token);
      queryClient.setQueryData(ME_KEY, user);
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    privateRanger.stop(); // before the session ends, so it does not retry a dead cookie
    try {
      await api.DELETE('/api/v2/barong/identity/sessions');
    } finally {
      rememberCsrf(null);
      queryClient.setQueryData(ME_KEY, null);
      // Nothing of the member's may stay on screen or in the cache.
      queryClient.removeQueries({ queryKey: MEMBER_KEY });
    }
  }, [queryClient]);

  const refresh = useCallback(async () => {
    await queryClient.invalidateQueries({ queryKey: ME_KEY });
  }, [queryClient]);

  // The private websocket is authenticated at its upgrade: a new member, a new connection.
  const uid = me.data?.uid ?? null;
  useEffect(() => {
    if (uid === null) privateRanger.stop();
    else privateRanger.restart();
  }, [uid]);

  // What changed while the private stream was down is read again once it is back.
  useEffect(() => {
    let opened = false;
    return privateRanger.onOpen(() => {
      if (opened) void queryClient.invalidateQueries({ queryKey: MEMBER_KEY });
      opened = true;
    });
  }, [queryClient]);

  // A private upgrade refused before it opened is most often an ended session (expired,
  // signed out in another tab): ask `users/me`, which signs this page out if so, rather
  // than retrying the upgrade forever.
  useEffect(() => {
    let previous = privateRanger.state;
    return privateRanger.onState((state) => {
      if (state === 'closed' && previous === 'connecting') {
        void queryClient.invalidateQueries({ queryKey: ME_KEY });
      }
      previous = state;
    });
  }, [queryClient]);

  const value = useMemo<Session>(() => {
    const user = me.data ?? null;
    const status: SessionStatus = me.isPending ? 'loading' : user ? 'signedIn' : 'signedOut';
    return { status, user, signedIn, signOut, refresh };
  }, [me.data, me.isPending, signedIn, signOut, refresh]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
