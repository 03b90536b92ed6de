/**
 * Ledger on one DynamoDB table: partition key `pk` (string), TTL attribute `expiresAt` (epoch
 * seconds). Items:
 *   intel#<key>   cached Criminal IP answer (gzip JSON), for the freshness window
 *   done#<jobId>  a finished job, so that a duplicate delivery is skipped
 *   quota#pause   until when Criminal IP must not be called
 *   work#<jobId>  the OpenCTI work a job opened, reused by its every delivery
 *   answer#<jobId> a playbook step's answer (gzip JSON), re-sent by a later delivery
 *   written#<id>  what the connector last wrote on an observable (score provenance), no expiry
 *   platform#info what registration / ping learned about OpenCTI (version, JWKS); no expiry
 *   credits#account the Criminal IP account's credits as the last ping read them; no expiry
 *   spend#<month> Criminal IP calls of a UTC month (`month`) and of each of its days (`d<day>`),
 *                 one item so that one conditional update keeps both windows within budget
 * DynamoDB deletes expired items lazily (often hours late), so every read treats an item whose
 * `expiresAt` has passed as absent.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Intel } from '../criminalip/intel';
import type {
  CachedIntel,
  CreditsRecord,
  CreditsStore,
  Ledger,
  PlatformRecord,
  PlatformStore,
  SpendCounts,
  SpendPeriod,
  SpendStore,
  WrittenByUs,
} from '../pipeline/ports';
import { type Clock, systemClock } from '../core/clock';
import { type Log, silentLog } from '../core/log';

/** Names shared with the table definition in infra/. */
export const LEDGER_KEY = 'pk';
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** DynamoDB items are at most 400 KB; leave room for the other attributes. */
export const MAX_CACHED_INTEL_BYTES = 380 * 1024;

const QUOTA_PAUSE_PK = 'quota#pause';
const PLATFORM_PK = 'platform#info';
const CREDITS_PK = 'credits#account';

export interface DynamoLedgerOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  log?: Log;
}

export const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** A month's spend item stays a month after the month ends (the `credits` command may look back). */
function spendExpiry(month: string): number {
  const [year, index] = month.split('-').map(Number);
  return epochSeconds(new Date(Date.UTC(year!, index, 1))) + 31 * 24 * 3600;
}

export class DynamoLedger implements Ledger, PlatformStore, SpendStore, CreditsStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly log: Log;

  constructor(options: DynamoLedgerOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLog;
  }

  async getIntel(key: string): Promise<CachedIntel | undefined> {
    const item = await this.read(`intel#${key}`, false);
    if (!item) return undefined;
    const data = item.data;
    if (!(data instanceof Uint8Array) || typeof item.fetchedAt !== 'string') return undefined;
    try {
      return { intel: JSON.parse(gunzipSync(data).toString('utf8')) as Intel, fetchedAt: item.fetchedAt };
    } catch {
      // A damaged cache entry only costs a fresh lookup.
      this.log.warn('Ignoring an unreadable cached Criminal IP answer', { cacheKey: key });
      return undefined;
    }
  }

  async putIntel(key: string, value: CachedIntel, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    const data = gzipSync(Buffer.from(JSON.stringify(value.intel), 'utf8'));
    if (data.byteLength > MAX_CACHED_INTEL_BYTES) {
      // Too large for one item even compressed: the answer is used but not cached.
      this.log.warn('Criminal IP answer too large to cache', { cacheKey: key, bytes: data.byteLength });
      return;
    }
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          [LEDGER_KEY]: `intel#${key}`,
          data,
          fetchedAt: value.fetchedAt,
          [LEDGER_TTL_ATTRIBUTE]: this.expiry(ttlSeconds),
        },
      }),
    );
  }

  async isDone(jobId: string): Promise<boolean> {
    // Strongly consistent: a redelivery can arrive right after the first delivery finished.
    return (await this.read(`done#${jobId}`, true)) !== undefined;
  }

  async markDone(jobId: string, ttlSeconds: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { [LEDGER_KEY]: `done#${jobId}`, [LEDGER_TTL_ATTRIBUTE]: this.expiry(ttlSeconds) },
      }),
    );
  }

  async getJobWork(jobId: string): Promise<string | undefined> {
    // Strongly consistent: the next delivery may come right after the one that opened the work.
    const workId = (await this.read(`work#${jobId}`, true))?.workId;
    return typeof workId === 'string' ? workId : undefined;
  }

  async putJobWork(jobId: string, workId: string, ttlSeconds: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { [LEDGER_KEY]: `work#${jobId}`, workId, [LEDGER_TTL_ATTRIBUTE]: this.expiry(ttlSeconds) },
      }),
    );
  }

  async getStepAnswer(jobId: string): Promise<string | undefined> {
    const data = (await this.read(`answer#${jobId}`, true))?.data;
    if (!(data instanceof Uint8Array)) return undefined;
    try {
      return gunzipSync(data).toString('utf8');
    } catch {
      // Unreadable: the step is enriched again (from the cache) rather than left unanswered.
      this.log.warn('Ignoring an unreadable kept playbook answer', { jobId });
      return undefined;
    }
  }

  async putStepAnswer(jobId: string, answer: string, ttlSeconds: number): Promise<void> {
    const data = gzipSync(Buffer.from(answer, 'utf8'));
    if (data.byteLength > MAX_CACHED_INTEL_BYTES) {
      // Too large for one item: a later delivery builds the answer again (from the cached intel).
      this.log.warn('Playbook answer too large to keep', { jobId, bytes: data.byteLength });
      return;
    }
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { [LEDGER_KEY]: `answer#${jobId}`, data, [LEDGER_TTL_ATTRIBUTE]: this.expiry(ttlSeconds) },
      }),
    );
  }

  async getQuotaPause(): Promise<number | undefined> {
    const item = await this.read(QUOTA_PAUSE_PK, true);
    const until = item?.untilMs;
    if (typeof until !== 'number' || until <= this.clock.now().getTime()) return undefined;
    return until;
  }

  async setQuotaPause(untilEpochMs: number | undefined): Promise<void> {
    if (untilEpochMs === undefined) {
      await this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: { [LEDGER_KEY]: QUOTA_PAUSE_PK } }),
      );
      return;
    }
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          [LEDGER_KEY]: QUOTA_PAUSE_PK,
          untilMs: untilEpochMs,
          [LEDGER_TTL_ATTRIBUTE]: Math.ceil(untilEpochMs / 1000),
        },
      }),
    );
  }

  async getWritten(key: string): Promise<WrittenByUs | undefined> {
    const item = await this.read(`written#${key}`, true);
    const value = item?.value;
    if (typeof value !== 'string') return undefined;
    try {
      return JSON.parse(value) as WrittenByUs;
    } catch {
      // Unreadable provenance: treated as unknown, so an existing score is never lowered.
      this.log.warn('Ignoring an unreadable record of what the connector wrote', { key });
      return undefined;
    }
  }

  async putWritten(key: string, value: WrittenByUs): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { [LEDGER_KEY]: `written#${key}`, value: JSON.stringify(value) },
      }),
    );
  }

  async getPlatform(): Promise<PlatformRecord | undefined> {
    // Eventually consistent: a JWKS a few seconds old is as good (it changes only with the key).
    const item = await this.read(PLATFORM_PK, false);
    if (!item || typeof item.version !== 'string' || typeof item.checkedAt !== 'string') return undefined;
    return {
      version: item.version,
      checkedAt: item.checkedAt,
      ...(typeof item.jwks === 'string' ? { jwks: item.jwks } : {}),
      ...(Array.isArray(item.registerInputFields)
        ? { registerInputFields: item.registerInputFields.map(String) }
        : {}),
    };
  }

  async putPlatform(record: PlatformRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { [LEDGER_KEY]: PLATFORM_PK, ...record } }),
    );
  }

  async addSpend(period: SpendPeriod, calls: number, limits: Partial<SpendCounts>): Promise<boolean> {
    const names: Record<string, string> = {
      '#m': 'month',
      '#d': `d${period.day}`,
      '#e': LEDGER_TTL_ATTRIBUTE,
    };
    const values: Record<string, unknown> = { ':n': calls, ':e': spendExpiry(period.month) };
    // ADD starts a missing counter at 0, so "absent or at most limit - calls" bounds the new count.
    const conditions: string[] = [];
    for (const [window, token] of [
      ['month', '#m'],
      ['day', '#d'],
    ] as const) {
      const limit = limits[window];
      if (limit === undefined) continue;
      if (limit - calls < 0) return false;
      values[`:${window}Max`] = limit - calls;
      conditions.push(`(attribute_not_exists(${token}) OR ${token} <= :${window}Max)`);
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [LEDGER_KEY]: `spend#${period.month}` },
          UpdateExpression: 'ADD #m :n, #d :n SET #e = :e',
          ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async readSpend(period: SpendPeriod): Promise<SpendCounts> {
    const item = await this.read(`spend#${period.month}`, true);
    const count = (value: unknown) => (typeof value === 'number' ? value : 0);
    return { month: count(item?.month), day: count(item?.[`d${period.day}`]) };
  }

  async getCredits(): Promise<CreditsRecord | undefined> {
    const item = await this.read(CREDITS_PK, false);
    if (!item || typeof item.credits !== 'number' || typeof item.checkedAt !== 'string') return undefined;
    return { credits: item.credits, checkedAt: item.checkedAt };
  }

  async putCredits(record: CreditsRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { [LEDGER_KEY]: CREDITS_PK, ...record } }),
    );
  }

  private expiry(ttlSeconds: number): number {
    return epochSeconds(this.clock.now()) + Math.ceil(ttlSeconds);
  }

  /** The item, or undefined when missing or past its expiry (TTL deletion lags). */
  private async read(pk: string, consistent: boolean): Promise<Record<string, unknown> | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { [LEDGER_KEY]: pk }, ConsistentRead: consistent }),
    );
    const item: Record<string, unknown> | undefined = result.Item;
    if (!item) return undefined;
    const expiresAt = item[LEDGER_TTL_ATTRIBUTE];
    if (typeof expiresAt === 'number' && expiresAt <= epochSeconds(this.clock.now())) return undefined;
    return item;
  }
}
