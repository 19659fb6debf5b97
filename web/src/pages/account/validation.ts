/**
 * The account forms' checks that need no server: they let a form say what is wrong before
 * sending, but the API decides (its codes are shown when it refuses).
 */

/** A mailed, texted or authenticator code: exactly six ASCII digits. */
export function isSixDigits(code: string): boolean {
  return /^[0-9]{6}$/.test(code);
}

/** Keeps only the digits of what was typed or pasted ("123 456" → "123456"), six at most. */
export function codeInput(typed: string): string {
  return typed.replace(/[^0-9]/g, '').slice(0, 6);
}

/** Both password fields are filled in and equal. */
export function passwordsMatch(password: string, confirmation: string): boolean {
  return password.length > 0 && password === confirmation;
}

/** A form's problems, by field, are all null: it may be sent. */
export function noProblems(problems: Record<string, string | null>): boolean {
  return Object.values(problems).every((problem) => problem === null);
}

/** The problems of a new password and of its confirmation (null where there is none). */
export function newPasswordProblems(
  t: (key: 'problem.passwordRule' | 'problem.mismatch') => string,
  password: string,
  confirmation: string,
) {
  return {
    password: meetsPasswordRule(passwordRule(password)) ? null : t('problem.passwordRule'),
    confirmation: passwordsMatch(password, confirmation) ? null : t('problem.mismatch'),
  };
}

/** A plausible email address (one `@`, something on both sides, a dot in the domain). */
export function looksLikeEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim());
}

/** Barong's password rule, part by part, as the sign-up form lists it. */
export interface PasswordRule {
  length: boolean;
  lower: boolean;
  upper: boolean;
  digit: boolean;
  symbol: boolean;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 80;

export function passwordRule(
  password: string,
  minLength = MIN_PASSWORD_LENGTH,
  maxLength = MAX_PASSWORD_LENGTH,
): PasswordRule {
  return {
    length: password.length >= minLength && password.length <= maxLength,
    lower: /[a-z]/.test(password),
    upper: /[A-Z]/.test(password),
    digit: /[0-9]/.test(password),
    symbol: /[^A-Za-z0-9]/.test(password),
  };
}

export function meetsPasswordRule(rule: PasswordRule): boolean {
  return rule.length && rule.lower && rule.upper && rule.digit && rule.symbol;
}

/** What `password/validate` answers: the estimate in bits and Bursa's verdict. */
export interface PasswordVerdict {
  entropy: number;
  result: 'strong' | 'weak' | 'requirements';
  reason?: string;
}

/** Reads `password/validate`'s answer (typed as any object by the API). */
export function readVerdict(answer: unknown): PasswordVerdict | null {
  if (typeof answer !== 'object' || answer === null) return null;
  const { entropy, result, reason } = answer as Record<string, unknown>;
  if (typeof entropy !== 'number') return null;
  if (result !== 'strong' && result !== 'weak' && result !== 'requirements') return null;
  return { entropy, result, ...(typeof reason === 'string' ? { reason } : {}) };
}

/** How full the strength meter is, 0–100: the estimate against the bits needed. */
export function strengthPercent(entropy: number, minEntropy: number): number {
  if (minEntropy <= 0) return entropy > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, Math.round((entropy / minEntropy) * 100)));
}

/** Seconds until a new code may be asked for, `interval` seconds after the last one. */
export function secondsLeft(sentAtMs: number | null, nowMs: number, intervalS: number): number {
  if (sentAtMs === null) return 0;
  return Math.max(0, Math.ceil((sentAtMs + intervalS * 1000 - nowMs) / 1000));
}

/** The base32 seed of an `otpauth://totp/...?secret=...` URL, for typing it in by hand. */
export function otpSecretOf(otpauthUrl: string): string | null {
  const query = otpauthUrl.indexOf('?');
  if (!otpauthUrl.startsWith('otpauth://') || query < 0) return null;
  const secret = new URLSearchParams(otpauthUrl.slice(query + 1)).get('secret');
  return secret && /^[A-Z2-7]+=*$/i.test(secret) ? secret.toUpperCase() : null;
}

/** The seed in groups of four, easier to copy by eye ("JBSW Y3DP …"). */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

/** The `Total` header of a paged list (0 when missing or not a number). */
export function totalOf(headers: Headers): number {
  const total = Number(headers.get('Total'));
  return Number.isInteger(total) && total >= 0 ? total : 0;
}

/** Pages needed for `total` rows, at least one (an empty list is one empty page). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

/** API key scopes as the API takes them: a comma list in a fixed order. */
export const API_KEY_SCOPES = ['read', 'trade', 'withdraw'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export function scopeParam(chosen: ReadonlySet<ApiKeyScope>): string {
  return API_KEY_SCOPES.filter((scope) => chosen.has(scope)).join(',');
}

/** The KYC levels each area opens at: for level `n`, the areas whose minimum is `n`. */
export type Area = 'trading' | 'deposit' | 'withdraw';

export function areasAtLevel(levels: Record<Area, number>, level: number): Area[] {
  return (Object.keys(levels) as Area[]).filter((area) => levels[area] === level);
}

/** A profile's country: two or three letters (ISO 3166), sent upper-case. */
export function isCountryCode(country: string): boolean {
  return /^[A-Za-z]{2,3}$/.test(country.trim());
}

/** A `YYYY-MM-DD` date strictly before `today` (same form). */
export function isPastDate(value: string, today: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && value < today;
}

/** Today in the member's own time zone as `YYYY-MM-DD`. */
export function localToday(now = new Date()): string {
  const month = String(now.getMonth() + 1).padStart(2, '0');
  const day = String(now.getDate()).padStart(2, '0');
  return `${now.getFullYear()}-${month}-${day}`;
}

/** The largest upload the API keeps (10 MB), and the types it reads. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const;

export function uploadProblem(file: { size: number; type: string }): 'size' | 'type' | null {
  if (file.size <= 0 || file.size > MAX_UPLOAD_BYTES) return 'size';
  if (file.type && !(UPLOAD_TYPES as readonly string[]).includes(file.type)) return 'type';
  return null;
}
