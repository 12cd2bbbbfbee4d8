/**
 * What the scheduler function is invoked with, decoded through the message catalog: an SQS batch
 * from the scheduler-events queue (events and wake-ups), or a schedule's payload delivered
 * directly (a DAG's `wakeup`, the `sweep`). A record that does not decode is reported failed, so
 * SQS retries it and finally moves it to the DLQ; the others still run.
 */
import type { SQSEvent } from 'aws-lambda';
import type { SchedulerInput } from '#services/scheduler-input.ts';
import { decodeAny } from '../../shared/messages.ts';

type Decoded = { ok: true; input: SchedulerInput } | { ok: false; error: Error };

function isSqsEvent(event: unknown): event is SQSEvent {
  return Array.isArray((event as Partial<SQSEvent> | null)?.Records);
}

function decodeRecord(body: string): Decoded {
  try {
    return { ok: true, input: decodeAny(['scheduler-event', 'schedule-wakeup'], body).body };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/** Every record of a batch, decoded, in record order. */
function decodeRecords(event: SQSEvent): Decoded[] {
  return event.Records.map((r) => decodeRecord(r.body));
}

export { decodeRecords, isSqsEvent };
