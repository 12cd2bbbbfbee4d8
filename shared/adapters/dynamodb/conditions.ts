/**
 * DynamoDB condition expressions, built from named sub-conditions so each can be read, tested as a
 * string and proven on DynamoDB Local. DynamoDB rejects arithmetic in conditions, so "there is room
 * for n more" is written `used <= :max` with `:max = limit − n` computed in code.
 */

/** A counter with room for the amount this write adds (`:max` = limit − amount). */
const counterHasRoom = 'attribute_not_exists(#used) OR #used <= :max';
/** A task instance still in the state and try the writer read. */
const tiStillAsRead = '#state = :expectedState AND #tryNumber = :expectedTry';

function both(...conditions: string[]): string {
  return conditions.map((c) => `(${c})`).join(' AND ');
}

/**
 * `:max` for a counter raised by `amount` under `limit`, or null when the raise can never fit.
 * Null must be handled in code, without a write: `attribute_not_exists(#used)` would otherwise
 * admit the first raise of a counter item that does not exist yet, even under a limit of 0.
 */
function maxBefore(limit: number, amount: number): number | null {
  const max = limit - amount;
  return max < 0 ? null : max;
}

export { both, counterHasRoom, maxBefore, tiStillAsRead };
