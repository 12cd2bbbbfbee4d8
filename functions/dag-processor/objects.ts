/**
 * The S3 side of the dag-processor: which objects an S3 notification names, and their content.
 * An object named as created but gone by the time it is read was deleted since: its removal
 * event follows, and it is handled as removed now (the same outcome, earlier).
 */
import type { S3Event } from 'aws-lambda';
import { keyFromS3Event } from '#adapters/s3/dag-objects.ts';
import { DAGS_PREFIX } from '#adapters/s3/keys.ts';

export interface DagObjectEvent {
  key: string;
  change: 'created' | 'removed';
}

/** The `dags/` objects an S3 notification is about, in event order. */
function dagObjectEvents(event: S3Event): DagObjectEvent[] {
  return (event.Records ?? [])
    .map((r) => ({
      key: keyFromS3Event(r.s3.object.key),
      change: r.eventName.startsWith('ObjectRemoved') ? ('removed' as const) : ('created' as const),
    }))
    .filter((e) => e.key.startsWith(DAGS_PREFIX));
}

export { dagObjectEvents };
