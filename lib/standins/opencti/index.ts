/** OpenCTI stand-in: a loopback GraphQL server answering the product's operations as OpenCTI does. */
export {
  startOpenCtiStandIn,
  type OpenCtiStandIn,
  type OpenCtiStandInOptions,
  type StandInAccessError,
} from './server';
export { STAND_IN_PLATFORMS, type StandInPlatform } from './schema';
export type { FaultPlan } from './faults';
export type {
  RecordedPlaybookAnswer,
  RecordedPush,
  RecordedRequest,
  StandInConnector,
  StandInMarking,
  StandInObservable,
  StandInWork,
  WorkStatus,
} from './model';
export { tlpMarking, type StandInTlp } from './tlp';
export { isDetecting, type PropertySource, type StandInIndicator, type StandInRelationship } from './upsert';
