import { formatNumber, type Separators } from '../../../lib/formatNumber';

/**
 * A price at the market's precision, its trailing zeros dimmed rather than cut (columns
 * of prices keep their width and line up).
 */
export function Price({
  value,
  precision,
  separators,
}: {
  value: string;
  precision: number;
  separators: Separators;
}) {
  const text = formatNumber(value, precision, separators);
  const decimal = separators.decimal ?? '.';
  if (precision === 0 || !text.includes(decimal)) return <>{text}</>;
  const kept = text.replace(/0+$/, '');
  const shown = kept.endsWith(decimal) ? kept.slice(0, -decimal.length) : kept;
  if (shown === text) return <>{text}</>;
  return (
    <>
      {shown}
      <span className="zeros">{text.slice(shown.length)}</span>
    </>
  );
}
