/**
 * A JSON object typed by hand, validated as it is typed: the console never sends a conf the API
 * would refuse, and says where the mistake is.
 */
import { useId } from 'react';
import type { JsonCheck } from '../lib/json.ts';

function JsonField({
  label,
  value,
  onChange,
  check,
  hint,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  check: JsonCheck;
  hint?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className={`code${check.ok ? '' : ' invalid'}`}
        spellCheck={false}
        rows={6}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={!check.ok}
      />
      {check.ok ? (
        hint && <span className="help">{hint}</span>
      ) : (
        <span className="field-error" role="alert">
          {check.message}
        </span>
      )}
    </div>
  );
}

export { JsonField };
