/** OpenCTI over GraphQL: the client, the pipeline's port, the connector lifecycle and the sweep. */
export { createOpenCtiClient, type OpenCtiClient, type OpenCtiClientOptions } from './client';
export {
  ConnectorNotRegisteredError,
  keepConnectorAlive,
  pingConnector,
  readConnector,
  registerConnector,
  registrationInput,
  type PingResult,
} from './connector';
export * from './errors';
export { createOpenCtiPort, type OpenCtiPortOptions } from './port';
export {
  findStaleObservables,
  parseUserFilter,
  sweepFilter,
  type StaleObservable,
  type SweepOptions,
} from './sweep';
