import { createContext, useContext } from 'react';

export type ToastKind = 'info' | 'success' | 'error';

export interface Toasts {
  /** Shows `text` for a few seconds (errors stay until dismissed). */
  push: (text: string, kind?: ToastKind) => void;
}

export const ToastContext = createContext<Toasts | null>(null);

export function useToasts(): Toasts {
  const toasts = useContext(ToastContext);
  if (!toasts) throw new Error('useToasts outside ToastProvider');
  return toasts;
}
