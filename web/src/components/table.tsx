/**
 * Table pieces the order, wallet and account tables share: a header row from a list of
 * columns, and a cell that names its column in `data-label` (the narrow layout shows it
 * beside the value, since the header row is hidden there).
 */
import type { ReactNode } from 'react';

export interface Column {
  label: string;
  /** Figures: aligned right, heading and cells alike (class `num`). */
  numeric?: boolean;
  className?: string;
}

function classes(numeric: boolean | undefined, className: string | undefined): string | undefined {
  return [numeric ? 'num' : '', className ?? ''].filter(Boolean).join(' ') || undefined;
}

/** `<thead>` with one heading per column; `children` add headings after them (e.g. actions). */
export function TableHead({ columns, children }: { columns: readonly Column[]; children?: ReactNode }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column.label} scope="col" className={classes(column.numeric, column.className)}>
            {column.label}
          </th>
        ))}
        {children}
      </tr>
    </thead>
  );
}

/** A body cell labelled with its column's heading. */
export function Cell({
  label,
  numeric,
  className,
  title,
  children,
}: Column & { title?: string; children: ReactNode }) {
  return (
    <td className={classes(numeric, className)} data-label={label} title={title}>
      {children}
    </td>
  );
}
