/**
 * A named, expiring lease shared by every instance (DynamoDB in AWS, SQLite locally): keeps the
 * Criminal IP calls of all consumers within what the key allows.
 */
export interface CallLease {
  /** Takes `name` for `holder` during `ttlMs` (again: extends it); false when another holder has it. */
  tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives it back if `holder` still holds it. */
  release(name: string, holder: string): Promise<void>;
}
