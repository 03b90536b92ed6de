/**
 * The enrich function's Lambda entry point, the file the stack bundles: the AWS wiring (./aws) is
 * built on the first event. handler.ts holds the handler itself, which `npm start` runs as well.
 */
import { lambdaEntry } from '../../lib/aws/runtime';
import { awsEnrichHandler } from './aws';

export const handler = lambdaEntry(() => awsEnrichHandler());
