import { useQuery } from '@tanstack/react-query';
import {
  type CandlestickData,
  CandlestickSeries,
  ColorType,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type Time,
  TickMarkType,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import type { Market } from '../../../api/markets';
import { ErrorNotice } from '../../../components/ErrorNotice';
import { publicRanger, useRangerStream } from '../../../lib/ranger';
import { type Candle, CANDLES_SHOWN, candleOf, candlesOf, type Period } from './periods';

/**
 * The candlestick chart (TradingView's lightweight-charts, loaded on demand: it is most
 * of the trade page's JavaScript). Candles come from the REST k-line, the current one
 * from `<m>.kline-<period>`; colours come from the theme's CSS variables and follow the
 * `data-theme` of `<html>`; the chart takes its container's size.
 */

interface Parts {
  chart: IChartApi;
  candles: ISeriesApi<'Candlestick'>;
  volume: ISeriesApi<'Histogram'>;
}

interface Colours {
  surface: string;
  text: string;
  muted: string;
  border: string;
  up: string;
  down: string;
}

function themeColours(): Colours {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    surface: read('--surface', '#ffffff'),
    text: read('--text', '#16191f'),
    muted: read('--muted', '#5b6472'),
    border: read('--border', '#d9dde3'),
    up: read('--up', '#0a7a3d'),
    down: read('--down', '#c0262d'),
  };
}

/** `#rrggbb` at `alpha` (the volume bars stay behind the candles); other colours as they are. */
function translucent(colour: string, alpha: number): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!match) return colour;
  const [r, g, b] = match.slice(1).map((hex) => parseInt(hex, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function candleData([time, open, high, low, close]: Candle): CandlestickData<Time> {
  return { time: time as UTCTimestamp, open, high, low, close };
}

function volumeData(candle: Candle, colours: Colours): HistogramData<Time> {
  const [time, open, , , close, volume] = candle;
  const colour = close >= open ? colours.up : colours.down;
  return { time: time as UTCTimestamp, value: volume, color: translucent(colour, 0.4) };
}

function paint(parts: Parts, colours: Colours, shown: readonly Candle[]): void {
  parts.chart.applyOptions({
    layout: {
      background: { type: ColorType.Solid, color: colours.surface },
      textColor: colours.muted,
    },
    grid: { vertLines: { color: colours.border }, horzLines: { color: colours.border } },
    rightPriceScale: { borderColor: colours.border },
    timeScale: { borderColor: colours.border },
    crosshair: {
      vertLine: { labelBackgroundColor: colours.text },
      horzLine: { labelBackgroundColor: colours.text },
    },
  });
  parts.candles.applyOptions({
    upColor: colours.up,
    downColor: colours.down,
    borderUpColor: colours.up,
    borderDownColor: colours.down,
    wickUpColor: colours.up,
    wickDownColor: colours.down,
  });
  parts.volume.setData(shown.map((candle) => volumeData(candle, colours)));
}

/** Axis and crosshair times in the reader's time zone and language. */
function timeOptions(locale: string, minutes: number) {
  const format = (options: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(locale, options);
  const year = format({ year: 'numeric' });
  const month = format({ month: 'short' });
  const day = format({ day: 'numeric', month: 'short' });
  const clock = format({ hour: '2-digit', minute: '2-digit' });
  const seconds = format({ hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const full = format(minutes < 1440 ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' });
  const byType: Record<TickMarkType, Intl.DateTimeFormat> = {
    [TickMarkType.Year]: year,
    [TickMarkType.Month]: month,
    [TickMarkType.DayOfMonth]: day,
    [TickMarkType.Time]: clock,
    [TickMarkType.TimeWithSeconds]: seconds,
  };
  return {
    localization: {
      locale,
      timeFormatter: (time: Time) => (typeof time === 'number' ? full.format(time * 1000) : ''),
    },
    timeScale: {
      timeVisible: minutes < 1440,
      tickMarkFormatter: (time: Time, type: TickMarkType) =>
        typeof time === 'number' ? byType[type].format(time * 1000) : null,
    },
  };
}

function useCandles(market: string, period: Period) {
  return useQuery({
    queryKey: ['public', 'markets', market, 'k-line', period.minutes],
    queryFn: async ({ signal }) => {
      const now = Math.floor(Date.now() / 1000);
      const rows = await unwrap(
        api.GET('/api/v2/peatio/public/markets/{market}/k-line', {
          params: {
            path: { market },
            query: {
              period: period.minutes,
              time_from: now - CANDLES_SHOWN * period.minutes * 60,
              time_to: now,
            },
          },
          signal,
        }),
      );
      return candlesOf(rows);
    },
  });
}

export default function PriceChart({ market, period }: { market: Market; period: Period }) {
  const { t, i18n } = useTranslation('trade');
  const box = useRef<HTMLDivElement>(null);
  const parts = useRef<Parts | null>(null);
  const colours = useRef<Colours | null>(null);
  /** What the chart shows, oldest first (re-coloured on a theme change). */
  const shown = useRef<Candle[]>([]);
  /** The last candle the stream sent, kept over a reload of the REST candles. */
  const live = useRef<Candle | null>(null);
  /** The period a stream candle came for (the "no trade yet" note goes). */
  const [streamedFor, setStreamedFor] = useState<number | null>(null);
  const query = useCandles(market.id, period);
  const locale = i18n.resolvedLanguage ?? 'en';
  const precision = market.price_precision;

  useEffect(() => {
    const chart = createChart(box.current!, { autoSize: true });
    const candles = chart.addSeries(CandlestickSeries, {});
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: '', priceFormat: { type: 'volume' } });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.1, bottom: 0.25 } });
    const made = { chart, candles, volume };
    parts.current = made;
    const repaint = () => {
      colours.current = themeColours();
      paint(made, colours.current, shown.current);
    };
    repaint();
    const theme = new MutationObserver(repaint);
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      theme.disconnect();
      parts.current = null;
      chart.remove();
    };
  }, []);

  useEffect(() => {
    parts.current?.candles.applyOptions({
      priceFormat: { type: 'price', precision, minMove: 1 / 10 ** precision },
    });
  }, [precision]);

  useEffect(() => {
    parts.current?.chart.applyOptions(timeOptions(locale, period.minutes));
  }, [locale, period.minutes]);

  // Another period: clear the old one's candles (the stream's last one too) and start
  // again from the right edge at the default bar width once the new candles come.
  const painted = useRef<number | null>(null);
  useEffect(() => {
    const made = parts.current;
    live.current = null;
    shown.current = [];
    made?.candles.setData([]);
    made?.volume.setData([]);
  }, [period.minutes]);

  useEffect(() => {
    const made = parts.current;
    if (!made || !query.data) return;
    const candles = [...query.data];
    const latest = live.current;
    const last = candles[candles.length - 1];
    if (latest && (!last || latest[0] >= last[0])) {
      if (last && last[0] === latest[0]) candles[candles.length - 1] = latest;
      else candles.push(latest);
    }
    shown.current = candles;
    made.candles.setData(candles.map(candleData));
    const palette = colours.current ?? themeColours();
    made.volume.setData(candles.map((candle) => volumeData(candle, palette)));
    if (painted.current !== period.minutes) {
      painted.current = period.minutes;
      made.chart.timeScale().resetTimeScale();
    }
  }, [query.data, period.minutes]);

  const stream = `${market.id}.kline-${period.stream}`;
  useRangerStream(publicRanger, stream, (payload, key) => {
    const candle = candleOf(payload);
    const made = parts.current;
    if (!candle || key !== stream || !made) return;
    const candles = shown.current;
    const last = candles[candles.length - 1];
    if (last && candle[0] < last[0]) return; // an older bucket: the chart only moves forward
    live.current = candle;
    if (last && last[0] === candle[0]) candles[candles.length - 1] = candle;
    else candles.push(candle);
    made.candles.update(candleData(candle));
    made.volume.update(volumeData(candle, colours.current ?? themeColours()));
    setStreamedFor(period.minutes);
  });

  const { refetch } = query;
  useEffect(() => publicRanger.onOpen(() => void refetch({ cancelRefetch: false })), [refetch]);

  const empty = query.isSuccess && query.data.length === 0 && streamedFor !== period.minutes;
  return (
    <>
      <div ref={box} className="chart-canvas" />
      {query.isPending && <p className="chart-note muted">{t('chart.loading')}</p>}
      {empty && <p className="chart-note muted">{t('chart.empty')}</p>}
      {query.isError && (
        <div className="chart-note">
          <ErrorNotice error={query.error} onRetry={() => void refetch()} />
        </div>
      )}
    </>
  );
}
