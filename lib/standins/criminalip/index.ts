/**
 * The Criminal IP stand-in: a loopback server speaking the Criminal IP API, with recorded answers
 * for the demo's observables, quotas, one-call-at-a-time, scans that advance per poll and seeded
 * fault injection.
 */
export { DEFAULT_COSTS, DEFAULT_RECORDED_SCANS, STANDIN_API_KEY, startCriminalIpStandIn } from './server';
export type {
  CallOutcome,
  CriminalIpStandIn,
  EndpointName,
  RecordedCall,
  StandInOptions,
  StandInStats,
} from './server';
export { DEMO_OBSERVABLES, PHISHING_URL } from './catalogue';
export type { DemoObservable } from './catalogue';
export { FAULT_KINDS, seededRandom } from './faults';
export type { FaultKind, FaultRates, FaultSettings } from './faults';
export type { RecordedScan, ScanScript } from './scans';
