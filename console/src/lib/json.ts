/** A JSON object typed by hand: parsed, or what is wrong and where (line and column). */

export type JsonCheck = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

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
    if (/end of JSON input/.test(message))
      return { ok: false, message: 'Not valid JSON: it ends too early (a closing } or ] or " is missing?)' };
    return { ok: false, message: `Not valid JSON: ${message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, message: 'conf must be a JSON object: { "key": value, … }' };
  return { ok: true, value: value as Record<string, unknown> };
}

export { checkJsonObject };
