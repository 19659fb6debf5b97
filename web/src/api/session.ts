import { createContext, useContext } from 'react';
import type { paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The signed-in member as Barong shows them (`UserWithFullInfo`). */
export type User = Json<paths['/api/v2/barong/resource/users/me']['get']['responses']['200']>;

/**
 * Query keys: the member's own data starts with `MEMBER_KEY` (dropped at sign-out), public
 * data with `'public'`.
 */
export const MEMBER_KEY = ['member'] as const;
export const ME_KEY = ['member', 'me'] as const;

export type SessionStatus = 'loading' | 'signedIn' | 'signedOut';

export interface Session {
  status: SessionStatus;
  /** The member, when signed in. */
  user: User | null;
  /** After a login, sign-up or confirmation answered a user with its CSRF token. */
  signedIn: (user: User) => void;
  /** Ends the session on the server (when there is one) and forgets it here. */
  signOut: () => Promise<void>;
  /** Reads `users/me` again (after a change of level, 2FA, …). */
  refresh: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
