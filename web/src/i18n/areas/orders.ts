/**
 * The order form's and the member's orders' words (namespace `orders`: `useTranslation('orders')`) and the
 * sentences of the API error codes those pages can meet (merged into the `errors`
 * namespace; flat keys, since codes contain dots).
 */
export const en = {};

export const fr: typeof en = {};

export const enErrors: Record<string, string> = {};

export const frErrors: Record<string, string> = {};
