/**
 * Cross-instance leases on the ledger table, used to keep Criminal IP calls within what the key
 * allows (one call in flight for non-Enterprise keys) however many Lambda instances run.
 *
 * A lease is an item `lease#<name>` written with a condition: absent, expired, or already ours.
 * It carries its own expiry, so a crashed holder blocks the slot for at most `ttlMs`. Release
 * deletes the item only if we still hold it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CallLease } from '../core/lease';
import { type Clock, systemClock } from '../core/clock';
import { epochSeconds, LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from './dynamo-ledger';

export interface DynamoLeaseOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

/** The CallLease port on the ledger table (LeaseCallSlots and the pipeline's claims use it). */
export class DynamoLease implements CallLease {
  private readonly clock: Clock;

  constructor(private readonly options: DynamoLeaseOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Takes the lease `name` for `holder` during `ttlMs`; false when someone else holds it. */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            [LEDGER_KEY]: `lease#${name}`,
            holder,
            leaseUntilMs: now + ttlMs,
            // Lets DynamoDB remove leases left behind; correctness rests on leaseUntilMs.
            [LEDGER_TTL_ATTRIBUTE]: epochSeconds(new Date(now + ttlMs)) + 60,
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #until < :now OR #holder = :holder',
          ExpressionAttributeNames: { '#pk': LEDGER_KEY, '#until': 'leaseUntilMs', '#holder': 'holder' },
          ExpressionAttributeValues: { ':now': now, ':holder': holder },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the lease back if `holder` still holds it; a lease taken over after expiry is left alone. */
  async release(name: string, holder: string): Promise<void> {
    try {
      await this.options.doc.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: { [LEDGER_KEY]: `lease#${name}` },
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': 'holder' },
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }
}
