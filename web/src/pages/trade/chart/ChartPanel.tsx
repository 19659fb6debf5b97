import { Component, lazy, type ReactNode, Suspense, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Market } from '../../../api/markets';
import { DEFAULT_PERIOD, type Period, PERIODS } from './periods';

// lightweight-charts is most of the page's JavaScript: it loads after the book and form.
const PriceChart = lazy(() => import('./PriceChart'));

const PERIOD_KEY = 'bursa.chartPeriod';

function savedPeriod(): Period {
  try {
    const saved = localStorage.getItem(PERIOD_KEY);
    return PERIODS.find((period) => period.label === saved) ?? DEFAULT_PERIOD;
  } catch {
    return DEFAULT_PERIOD;
  }
}

function savePeriod(period: Period): void {
  try {
    localStorage.setItem(PERIOD_KEY, period.label);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

/** The chart's panel: its period buttons, and the chart once its code has loaded. */
export function ChartPanel({ market }: { market: Market }) {
  const { t } = useTranslation('trade');
  const titleId = useId();
  const [period, setPeriod] = useState(savedPeriod);

  return (
    <section className="trade-panel chart-panel" aria-labelledby={titleId}>
      <div className="panel-head">
        <h2 id={titleId}>{t('chart.title')}</h2>
        <div className="chart-periods" role="group" aria-label={t('chart.period')}>
          {PERIODS.map((choice) => (
            <button
              key={choice.label}
              type="button"
              aria-pressed={choice === period}
              aria-label={t(`chart.periods.${choice.label}`)}
              onClick={() => {
                setPeriod(choice);
                savePeriod(choice);
              }}
            >
              {t(`chart.short.${choice.label}`)}
            </button>
          ))}
        </div>
      </div>
      <div className="chart-box" data-testid="chart">
        <ChartBoundary fallback={<p className="chart-note muted">{t('chart.failed')}</p>}>
          <Suspense fallback={<p className="chart-note muted">{t('chart.loading')}</p>}>
            <PriceChart market={market} period={period} />
          </Suspense>
        </ChartBoundary>
      </div>
    </section>
  );
}

/** The chart's code could not load (a new release replaced it): the rest of the page works on. */
class ChartBoundary extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}
