/** Date inputs: the browser's `datetime-local` / `date` values to the ISO strings the API takes. */

/** `2026-01-05T10:00` (local time) → `2026-01-05T09:00:00.000Z`. */
function localInputToIso(value: string): string {
  return new Date(value).toISOString();
}

/** `2026-01-05` → `2026-01-05` (the API reads a date as midnight UTC, a logical date of a daily DAG). */
function dateInput(value: string): string {
  return value;
}

/** A Date as the value of a `date` input, in UTC. */
function toDateInput(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export { dateInput, localInputToIso, toDateInput };
