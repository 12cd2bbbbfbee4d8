/**
 * A JSON object typed by hand, validated as it is typed: the console never sends a conf the API
 * would refuse, and says where the mistake is.
 */
import { useId } from 'react';

type JsonCheck = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

function checkJsonObject(text: string): JsonCheck {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/.exec(message);
    if (at) {
      const offset = Number(at[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      return {
        ok: false,
        message: `Not valid JSON at line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, '')}`,
      };
    }
    return { ok: false, message: `Not valid JSON: ${message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, message: 'conf must be a JSON object: { "key": value, … }' };
  return { ok: true, value: value as Record<string, unknown> };
}

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

export { checkJsonObject, type JsonCheck, JsonField };
