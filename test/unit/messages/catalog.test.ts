import { describe, expect, it } from 'vitest';
import {
  type DispatchMessage,
  decode,
  decodeAny,
  encode,
  MESSAGE_TYPES,
  type MessageBody,
  MessageError,
  type MessageType,
  messageCatalog,
} from '../../../shared/messages.ts';

const dispatch: DispatchMessage = {
  key: { dagId: 'etl', runId: 'scheduled__2024-01-01T00:00:00+00:00', taskId: 'load', mapIndex: -1 },
  tryNumber: 2,
  dagVersion: 'abc123',
  executor: 'lambda',
};

/** A dispatch from a claim pass that had the run (`run` carried, so the worker need not read it). */
const dispatchWithRun: DispatchMessage = {
  ...dispatch,
  run: {
    logicalDate: Date.parse('2024-01-01T00:00:00Z'),
    dataIntervalStart: Date.parse('2024-01-01T00:00:00Z'),
    dataIntervalEnd: Date.parse('2024-01-02T00:00:00Z'),
    conf: { table: 'users', limit: 10 },
    startedAt: null,
  },
};

function errorOf(fn: () => unknown): MessageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof MessageError) return error;
    throw error;
  }
  throw new Error('expected a MessageError');
}

describe('message catalog', () => {
  it.each<{ case: string; type: MessageType; body: MessageBody<MessageType> }>([
    { case: 'dispatch', type: 'dispatch', body: dispatch },
    { case: 'dispatch carrying its run', type: 'dispatch', body: dispatchWithRun },
    {
      case: 'task finished',
      type: 'scheduler-event',
      body: { type: 'task_finished', dagId: 'etl', runId: 'r' },
    },
    {
      case: 'run triggered',
      type: 'scheduler-event',
      body: { type: 'run_triggered', dagId: 'etl', runId: 'r' },
    },
    { case: 'dag registered', type: 'scheduler-event', body: { type: 'dag_registered', dagId: 'etl' } },
    { case: 'pool changed', type: 'scheduler-event', body: { type: 'pool_changed', pool: 'p' } },
    { case: 'tick for all DAGs', type: 'scheduler-event', body: { type: 'tick' } },
    { case: 'wake-up', type: 'schedule-wakeup', body: { type: 'wakeup', dagId: 'etl' } },
    { case: 'sweep', type: 'schedule-wakeup', body: { type: 'sweep' } },
  ])('decodes what it encodes ($case)', ({ type, body }) => {
    const wire = encode(type, body);
    expect(JSON.parse(wire).v).toBe(messageCatalog[type].version);
    expect(decode(type, wire)).toEqual(body);
  });

  it('decodes the object an EventBridge schedule hands to a function, as well as a string', () => {
    expect(decode('schedule-wakeup', { v: 1, type: 'wakeup', dagId: 'etl' })).toEqual({
      type: 'wakeup',
      dagId: 'etl',
    });
  });

  it('reads a message without a version as the current one', () => {
    expect(decode('schedule-wakeup', '{"type":"sweep"}')).toEqual({ type: 'sweep' });
  });

  it('drops fields it does not know, so a newer producer with an added field does not break it', () => {
    const wire = JSON.stringify({ v: 1, ...dispatch, traceId: 'x', key: { ...dispatch.key, shard: 3 } });
    expect(decode('dispatch', wire)).toEqual(dispatch);
  });

  it.each([
    {
      case: 'a wrong type deep inside',
      raw: { ...dispatch, key: { ...dispatch.key, mapIndex: '1' } },
      field: 'key.mapIndex',
    },
    { case: 'a missing field', raw: { ...dispatch, dagVersion: undefined }, field: 'dagVersion' },
    { case: 'an out-of-range value', raw: { ...dispatch, tryNumber: -1 }, field: 'tryNumber' },
    { case: 'an unknown executor', raw: { ...dispatch, executor: 'k8s' }, field: 'executor' },
    {
      case: 'a run date that is not a number',
      raw: { ...dispatchWithRun, run: { ...dispatchWithRun.run, logicalDate: '2024-01-01' } },
      field: 'run.logicalDate',
    },
    {
      case: 'a run conf that is not an object',
      raw: { ...dispatchWithRun, run: { ...dispatchWithRun.run, conf: [1] } },
      field: 'run.conf',
    },
    {
      case: 'a run without its start',
      raw: { ...dispatchWithRun, run: { ...dispatchWithRun.run, startedAt: undefined } },
      field: 'run.startedAt',
    },
    { case: 'a version it does not read', raw: { ...dispatch, v: 2 }, field: 'v' },
    { case: 'text that is not JSON', raw: '{"key":', field: '(message)' },
    { case: 'JSON that is not an object', raw: '[1,2]', field: '(message)' },
  ])('rejects $case with a MessageError naming the field', ({ raw, field }) => {
    const error = errorOf(() => decode('dispatch', typeof raw === 'string' ? raw : JSON.stringify(raw)));
    expect(error.field).toBe(field);
    expect(error.messageType).toBe('dispatch');
    expect(error.message).toMatch(new RegExp(`^dispatch message: ${field.replace(/[().]/g, '\\$&')}: `));
  });

  it('says a missing field is required', () => {
    expect(errorOf(() => decode('scheduler-event', '{"type":"task_finished","dagId":"etl"}')).message).toBe(
      'scheduler-event message: runId: is required',
    );
  });

  it('names the type field for an event type it does not know', () => {
    expect(errorOf(() => decode('scheduler-event', '{"type":"dag_deleted","dagId":"etl"}')).field).toBe(
      'type',
    );
  });

  it('refuses to encode a message its own schema rejects (a producer bug)', () => {
    const bad = { ...dispatch, key: { ...dispatch.key, mapIndex: -2 } };
    expect(errorOf(() => encode('dispatch', bad)).field).toBe('key.mapIndex');
  });

  it('decodes a message that may be one of several types by its type field', () => {
    const types = ['scheduler-event', 'schedule-wakeup'] as const;
    expect(decodeAny(types, encode('schedule-wakeup', { type: 'wakeup', dagId: 'etl' }))).toEqual({
      type: 'schedule-wakeup',
      body: { type: 'wakeup', dagId: 'etl' },
    });
    expect(decodeAny(types, encode('scheduler-event', { type: 'tick' }))).toEqual({
      type: 'scheduler-event',
      body: { type: 'tick' },
    });
    const error = errorOf(() => decodeAny(types, '{"type":"wakeup"}'));
    expect(error.message).toBe('scheduler-event | schedule-wakeup message: dagId: is required');
  });

  it.each(MESSAGE_TYPES)(
    'keeps %s hidden 6 times its consumer timeout, within the SQS maximum of 12 h',
    (type) => {
      const spec = messageCatalog[type];
      expect(spec.visibilityTimeoutSeconds).toBe(6 * spec.consumerTimeoutSeconds);
      expect(spec.visibilityTimeoutSeconds).toBeLessThanOrEqual(43_200);
      expect(spec.retry.maxReceiveCount).toBeGreaterThanOrEqual(1);
    },
  );
});
