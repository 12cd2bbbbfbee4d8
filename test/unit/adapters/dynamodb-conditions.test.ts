/**
 * The exact expressions the DynamoDB store sends. Their meaning is proven on DynamoDB Local
 * (test/integration/dynamodb/conditions.test.ts); here a change to any of them fails loudly.
 */
import { describe, expect, it } from 'vitest';
import { claimCondition, claimUpdate, raiseCondition, raiseUpdate } from '#adapters/dynamodb/claim.ts';
import {
  absentOrKnown,
  both,
  counterHasRoom,
  expression,
  maxBefore,
  stillListedUnder,
  tiStillAsRead,
  updateExpression,
} from '#adapters/dynamodb/conditions.ts';
import { lowerCondition, lowerUpdate } from '#adapters/dynamodb/tries.ts';

describe('DynamoDB condition expressions', () => {
  it('say "room for the amount" without arithmetic: used <= :max, or no counter yet', () => {
    expect(counterHasRoom).toBe('attribute_not_exists(#used) OR #used <= :max');
  });

  it('claim an instance only in the state and try the scheduler read, and of a known version', () => {
    expect(tiStillAsRead).toBe('#state = :expectedState AND #tryNumber = :expectedTry');
    expect(claimCondition).toBe('(#v = :v) AND (#state = :expectedState AND #tryNumber = :expectedTry)');
  });

  it('move the claimed instance out of the claim index, into no other (holders are found through runs)', () => {
    expect(claimUpdate(true)).toBe(
      'SET #state = :queued, #queuedAt = :queuedAt, #holds = :holds ' +
        'REMOVE #claimPk, #claimSk, #waitReason, #holdParts',
    );
    expect(claimUpdate(false)).toBe(
      'SET #state = :queued, #queuedAt = :queuedAt ' +
        'REMOVE #claimPk, #claimSk, #waitReason, #holds, #holdParts',
    );
    // With sharded counters the shards each hold took are recorded, for its try end.
    expect(claimUpdate(true, true)).toBe(
      'SET #state = :queued, #queuedAt = :queuedAt, #holds = :holds, ' +
        '#holdParts = :parts REMOVE #claimPk, #claimSk, #waitReason',
    );
  });

  it('raise a limited counter under its room and an unlimited one only if it is ours', () => {
    expect(raiseUpdate).toBe(
      'SET #type = :counterType, #v = :v, #waitPk = :counters, #waitSk = :counterId, ' +
        '#counterKey = :counterKey, #lim = :limit, #changedAt = :now ADD #used :amount, #ver :one',
    );
    expect(raiseCondition(true)).toBe(
      '(attribute_not_exists(pk) OR #v = :v) AND (attribute_not_exists(#used) OR #used <= :max)',
    );
    expect(raiseCondition(false)).toBe(absentOrKnown);
    expect(absentOrKnown).toBe('attribute_not_exists(pk) OR #v = :v');
  });

  it('lower a counter only when it holds at least the amount', () => {
    expect(lowerUpdate).toBe('SET #changedAt = :now ADD #used :minus, #ver :one');
    expect(lowerCondition).toBe('(#v = :v) AND (#used >= :amount)');
  });

  it('park and unpark an instance only from where it was read', () => {
    expect(both(stillListedUnder, tiStillAsRead)).toBe(
      '(#claimPk = :listedUnder) AND (#state = :expectedState AND #tryNumber = :expectedTry)',
    );
  });
});

describe('maxBefore', () => {
  it.each([
    { limit: 128, amount: 3, max: 125 },
    { limit: 3, amount: 3, max: 0 },
    { limit: 2, amount: 3, max: null },
    { limit: 0, amount: 1, max: null },
  ])(
    'gives limit − amount, or null when the raise can never fit ($limit, $amount)',
    ({ limit, amount, max }) => {
      expect(maxBefore(limit, amount)).toBe(max);
    },
  );
});

describe('expression', () => {
  it('maps #name placeholders to attributes and sends only the values used', () => {
    const out = expression(
      { update: 'SET #state = :queued', condition: counterHasRoom },
      { ':queued': { S: 'queued' }, ':max': { N: '4' }, ':unused': { S: 'x' } },
    );
    expect(out).toEqual({
      UpdateExpression: 'SET #state = :queued',
      ConditionExpression: counterHasRoom,
      ExpressionAttributeNames: { '#state': 'state', '#used': 'used' },
      ExpressionAttributeValues: { ':queued': { S: 'queued' }, ':max': { N: '4' } },
    });
  });

  it('throws when an expression uses a value that was not given', () => {
    expect(() => updateExpression('ADD #used :minus', counterHasRoom, { ':minus': { N: '-1' } })).toThrow(
      /uses :max but no value was given/,
    );
  });

  it('leaves names and values out when an expression has none', () => {
    expect(expression({ condition: 'attribute_not_exists(pk)' })).toEqual({
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });
});
