/** What the signed-in member may do in the wallet: their KYC level against the exchange's
 * minimums (`public/member-levels`), and whether they have 2FA. The API has the last word
 * (its `not_permitted` / `otp_not_enabled` refusals show the same notices). */
import { useSession } from '../../api/session';
import { useMemberLevels } from './walletApi';

export interface Gate {
  level: number | null;
  depositLevel: number | null;
  withdrawLevel: number | null;
  /** Known and high enough (unknown: let the API decide). */
  canDeposit: boolean;
  canWithdraw: boolean;
  hasOtp: boolean;
  uid: string;
}

export function useGate(): Gate {
  const { user } = useSession();
  const levels = useMemberLevels();
  const level = user ? user.level : null;
  const depositLevel = levels.data?.deposit.minimum_level ?? null;
  const withdrawLevel = levels.data?.withdraw.minimum_level ?? null;
  const enough = (needed: number | null) => needed === null || level === null || level >= needed;
  return {
    level,
    depositLevel,
    withdrawLevel,
    canDeposit: enough(depositLevel),
    canWithdraw: enough(withdrawLevel),
    hasOtp: Boolean(user?.otp),
    uid: user?.uid ?? '',
  };
}
