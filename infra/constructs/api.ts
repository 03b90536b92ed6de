/**
 * The public entry point: a regional REST API whose three routes all go to the ingest function
 * (Lambda proxy). Authentication happens in the function, not in API Gateway: OpenCTI's worker
 * sends `Authorization: Bearer <connector token>` and the webhook `X-Webhook-Token`, and both are
 * compared in constant time against the Secrets Manager secret, with answers the callers rely on
 * (the worker requeues forever on anything but 2xx, so some refusals must be 202).
 */
import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

export const STAGE_NAME = 'v1';
export const CALLBACK_PATH = '/opencti/callback';
export const WEBHOOK_PATH = '/webhook';
export const HEALTH_PATH = '/health';

export interface IngestApiProps {
  readonly handler: lambda.IFunction;
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly tracing: boolean;
  readonly logRetentionDays: number;
}

export class IngestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly callbackUrl: string;
  readonly webhookUrl: string;
  readonly healthUrl: string;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      // Also the ApiName dimension of the API's CloudWatch metrics.
      restApiName: `${Stack.of(this).stackName}-ingest`,
      description: 'criminalip-opencti: OpenCTI connector callback and webhook',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Execution logging (below) needs the account-level CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        // The standard fields carry no header: tokens never reach the access log.
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Full request logging would write the Authorization header to CloudWatch.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing,
      },
    });

    const integration = new apigateway.LambdaIntegration(props.handler, {
      proxy: true,
      allowTestInvoke: false,
    });

    // A permissive JSON model: API Gateway only refuses a body that is not JSON at all (400); the
    // function does the real validation. The callback route has no model on purpose: a body
    // the worker sent must always reach the function, which answers 202 and logs the rejection
    // of a message that can never be processed (any other status makes the worker requeue it).
    const validator = this.api.addRequestValidator('BodyAndParameters', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const anyJson = this.api.addModel('AnyJson', {
      contentType: 'application/json',
      modelName: 'AnyJson',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, title: 'AnyJson' },
    });
    this.api.addGatewayResponse('InvalidBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': '{"error":"invalid_body","message":"The request body is not valid JSON"}',
      },
    });

    this.api.root.addResource('opencti').addResource('callback').addMethod('POST', integration);
    this.api.root.addResource('webhook').addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: { 'application/json': anyJson },
    });
    this.api.root.addResource('health').addMethod('GET', integration);

    this.callbackUrl = this.api.urlForPath(CALLBACK_PATH);
    this.webhookUrl = this.api.urlForPath(WEBHOOK_PATH);
    this.healthUrl = this.api.urlForPath(HEALTH_PATH);

    const inFunction =
      'Requests are authenticated in the ingest function: the OpenCTI worker\'s "Authorization: Bearer ' +
      '<connector token>" and the webhook\'s X-Webhook-Token are compared in constant time with the ' +
      'Secrets Manager secret. An API Gateway authorizer cannot give the answers OpenCTI needs (202 for ' +
      'messages that must not be requeued) and the webhook fans out per observable in the same function.';
    acknowledge(this.api, 'AwsSolutions-APIG4', inFunction);
    acknowledge(this.api, 'AwsSolutions-COG4', `${inFunction} OpenCTI cannot obtain Cognito tokens.`);
    acknowledge(
      this.api,
      'AwsSolutions-APIG3',
      'WAF is optional for this API: every route is token-authenticated and stage throttling caps the ' +
        'request rate. docs/deploy.md (Security notes) shows how to associate a web ACL with the stage.',
    );
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The AWS managed policy is the one API Gateway documents for its account-level logging role; ' +
          'API Gateway names the execution log groups itself, so an own policy would need the same wildcards.',
      );
    }
  }
}
