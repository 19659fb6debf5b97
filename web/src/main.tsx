import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { ApiError } from './api/client';
import './api/csrf';
import { SessionProvider } from './components/SessionProvider';
import { App } from './App';
import { ToastProvider } from './components/ToastProvider';
import './i18n';
import { applyTheme, initialTheme } from './lib/theme';
import './styles.css';

applyTheme(initialTheme(), false);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change by asking again; network and 5xx failures may.
      retry: (failures, error) =>
        failures < 2 && !(error instanceof ApiError && error.status !== null && error.status < 500),
      refetchOnWindowFocus: true,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <BrowserRouter>
          <ToastProvider>
            <App />
          </ToastProvider>
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
