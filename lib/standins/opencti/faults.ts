/**
 * Fault injection for the OpenCTI stand-in: at configured rates, drawn from a seeded generator so
 * that a run can be replayed, a request is answered with an HTTP 5xx (as a proxy in front of
 * OpenCTI would), a GraphQL error (as OpenCTI does when its database or a lock fails), or not at
 * all (the client has to time out).
 */
import { seededRandom } from '../seeded-random';

export { seededRandom };

export interface FaultPlan {
  /** Share of requests answered with HTTP 502 or 503 and an HTML body, from 0 to 1. */
  http5xx?: number;
  /** Share of requests never answered. */
  hang?: number;
  /** Share of requests answered with HTTP 200 and a GraphQL error. */
  graphqlError?: number;
  /** `extensions.code` of the injected GraphQL errors (DATABASE_ERROR when absent). */
  graphqlErrorCode?: string;
  /** Only requests for these operation names are affected (all when absent). */
  operations?: string[];
  /** Stop after injecting this many faults (no limit when absent). */
  limit?: number;
}

export type Fault =
  { kind: 'http5xx'; status: 502 | 503 } | { kind: 'hang' } | { kind: 'graphql-error'; code: string };

function rate(value: number | undefined, name: string): number {
  const r = value ?? 0;
  if (!Number.isFinite(r) || r < 0 || r > 1)
    throw new RangeError(`Fault rate ${name} must be between 0 and 1`);
  return r;
}

export class FaultInjector {
  private plan: FaultPlan = {};
  private injected = 0;
  private readonly random: () => number;

  constructor(seed: number, plan: FaultPlan = {}) {
    this.random = seededRandom(seed);
    this.set(plan);
  }

  /** Replaces the plan and resets the count of injected faults. */
  set(plan: FaultPlan): void {
    const total =
      rate(plan.http5xx, 'http5xx') + rate(plan.hang, 'hang') + rate(plan.graphqlError, 'graphqlError');
    if (total > 1) throw new RangeError('Fault rates must add up to at most 1');
    this.plan = { ...plan };
    this.injected = 0;
  }

  /** The fault for this request, if any. Draws once per eligible request, so runs replay exactly. */
  next(operationName: string | undefined): Fault | undefined {
    const { plan } = this;
    if (plan.operations && !(operationName && plan.operations.includes(operationName))) return undefined;
    if (plan.limit !== undefined && this.injected >= plan.limit) return undefined;
    const draw = this.random();
    let edge = plan.hang ?? 0;
    let fault: Fault | undefined;
    if (draw < edge) {
      fault = { kind: 'hang' };
    } else if (draw < (edge += plan.http5xx ?? 0)) {
      fault = { kind: 'http5xx', status: this.random() < 0.5 ? 502 : 503 };
    } else if (draw < (edge += plan.graphqlError ?? 0)) {
      fault = { kind: 'graphql-error', code: plan.graphqlErrorCode ?? 'DATABASE_ERROR' };
    }
    if (fault) this.injected += 1;
    return fault;
  }
}
