/** Short human text for a cron schedule: "at 03:00 every day (Europe/Paris)". Falls back to the expression. */

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function single(field: string, max: number): number | null {
  if (!/^\d+$/.test(field)) return null;
  const value = Number(field);
  return value <= max ? value : null;
}

function weekday(field: string): string | null {
  const byName = WEEKDAY_NAMES.indexOf(field.toLowerCase());
  if (byName >= 0) return WEEKDAYS[byName] ?? null;
  const value = single(field, 7);
  return value === null ? null : (WEEKDAYS[value % 7] ?? null);
}

const pad = (n: number) => String(n).padStart(2, '0');

function cronText(fields: readonly string[]): string | null {
  const [minute = '', hour = '', dom = '', month = '', dow = ''] = fields;
  const anyDay = dom === '*' && month === '*' && dow === '*';
  const m = single(minute, 59);
  const h = single(hour, 23);
  if (m !== null && h !== null) {
    const at = `at ${pad(h)}:${pad(m)}`;
    if (anyDay) return `${at} every day`;
    const day = weekday(dow);
    if (dom === '*' && month === '*' && day) return `${at} every ${day}`;
    const d = single(dom, 31);
    if (d !== null && month === '*' && dow === '*') return `${at} on day ${d} of every month`;
    const mo = single(month, 12);
    if (d !== null && mo !== null && mo > 0 && dow === '*')
      return `${at} on ${d} ${MONTHS[mo - 1]} every year`;
    return null;
  }
  if (hour === '*' && anyDay) {
    if (m !== null) return m === 0 ? 'every hour' : `every hour at minute ${m}`;
    if (minute === '*') return 'every minute';
    const step = /^\*\/(\d+)$/.exec(minute);
    if (step) return `every ${step[1]} minutes`;
  }
  return null;
}

function describeCron(
  fields: readonly string[],
  expression: string,
  timezone: string,
  style: string,
): string {
  const text = cronText(fields) ?? `cron "${expression}"`;
  return style === 'trigger' ? `${text} (${timezone}, trigger style)` : `${text} (${timezone})`;
}

export { describeCron };
