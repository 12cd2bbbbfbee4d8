/**
 * Task logs in S3, one object per append: `logs/<dagId>/<runId>/<taskId>/<mapIndex>/<try>/<chunk>.log`,
 * read back by listing the try's prefix in key order and concatenating the chunks.
 *
 * Why chunks and not one object rewritten on each append: a read-modify-write loses lines when two
 * writers append at once (the worker and a sweep that ends the try), and rewrites the whole log on
 * every append. A chunk costs one PUT and never conflicts; S3 lists are strongly consistent, so a read
 * sees every chunk whose append returned. Chunk names sort by the writer's clock, then by a
 * per-writer sequence, so one writer's appends read back in order; appends of two writers in the
 * same millisecond may interleave either way. Callers should buffer lines and append every few
 * seconds rather than per line (one PUT per append).
 *
 * A chunk is its lines, each ended by `\n`; a line that itself contains `\n` reads back as several.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { TiKey } from '#core/model.ts';
import type { Clock, LogStore } from '#ports';
import { logChunkKey, logPrefix } from './keys.ts';
import { getText, listAll } from './objects.ts';

interface S3LogStoreOptions {
  /** Orders chunks. @default Date.now */
  clock?: Clock;
  /** Chunks fetched at once by `read`. @default 8 */
  readConcurrency?: number;
}

function splitChunk(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

class S3LogStore implements LogStore {
  readonly #clock: Clock;
  readonly #readConcurrency: number;
  #sequence = 0;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3LogStoreOptions = {},
  ) {
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#readConcurrency = options.readConcurrency ?? 8;
  }

  async append(key: TiKey, tryNumber: number, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    this.#sequence = (this.#sequence + 1) % 1e9;
    const chunkKey = logChunkKey(
      logPrefix(key, tryNumber),
      this.#clock.now(),
      this.#sequence,
      randomBytes(4).toString('hex'),
    );
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: chunkKey,
        Body: lines.map((line) => `${line}\n`).join(''),
        ContentType: 'text/plain; charset=utf-8',
      }),
    );
  }

  async read(key: TiKey, tryNumber: number): Promise<string[]> {
    const chunks = await listAll(this.client, this.bucket, logPrefix(key, tryNumber));
    const texts: string[] = new Array(chunks.length);
    let next = 0;
    const lanes = Array.from({ length: Math.min(this.#readConcurrency, chunks.length) }, async () => {
      while (next < chunks.length) {
        const i = next++;
        // A chunk deleted between the list and the get (log retention) reads as empty.
        texts[i] = (await getText(this.client, this.bucket, chunks[i]!.key))?.text ?? '';
      }
    });
    await Promise.all(lanes);
    return texts.flatMap(splitChunk);
  }
}

export { S3LogStore, type S3LogStoreOptions };
