import { useTranslation } from 'react-i18next';
import { Link, Route, Routes } from 'react-router-dom';
import { Header } from './components/Header';
import { MarketsPage } from './pages/MarketsPage';

function NotFound() {
  const { t } = useTranslation();
  return (
    <section className="page">
      <h1>{t('notFound.title')}</h1>
      <Link to="/">{t('notFound.back')}</Link>
    </section>
  );
}

export function App() {
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<MarketsPage />} />
          <Route path="/markets" element={<MarketsPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}
