/**
 * A decimal input with its unit: text (never `type="number"`, which would parse to a
 * float and drop what it cannot read), with the decimal keyboard on phones; its problem,
 * if any, under it in an alert.
 */
export function NumberField(props: {
  id: string;
  label: string;
  unit: string;
  testId: string;
  value: string;
  problem: string | undefined;
  onChange: (text: string) => void;
}) {
  const errorId = `${props.id}-error`;
  return (
    <div className="field order-field">
      <label htmlFor={props.id}>
        {props.label} <span className="visually-hidden">({props.unit})</span>
      </label>
      <div className={`order-input${props.problem ? ' order-input-invalid' : ''}`}>
        <input
          id={props.id}
          type="text"
          inputMode="decimal"
          autoComplete="off"
          spellCheck={false}
          data-testid={props.testId}
          value={props.value}
          aria-invalid={props.problem ? true : undefined}
          aria-describedby={props.problem ? errorId : undefined}
          onChange={(event) => props.onChange(event.target.value)}
        />
        <span className="order-unit" aria-hidden="true">
          {props.unit}
        </span>
      </div>
      {props.problem && (
        <p id={errorId} role="alert" className="field-error">
          {props.problem}
        </p>
      )}
    </div>
  );
}
