/** A moment of the API (ISO 8601 or Unix seconds) in the member's language and time zone. */
export function formatMoment(moment: string | number, locale: string | undefined, withTime = true): string {
  const date = typeof moment === 'number' ? new Date(moment * 1000) : new Date(moment);
  if (Number.isNaN(date.getTime())) return String(moment);
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    ...(withTime ? { timeStyle: 'short' } : {}),
  }).format(date);
}
