/**
 * Builds the CDK app: the connector stack plus cdk-nag's AWS Solutions checks, which run on
 * every synth so that an unacknowledged finding fails `cdk synth` and `cdk deploy`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CriminalIpOpenCtiStack } from './stack';

/** Stack name, overridable with -c stackName=... to run several connectors in one account. */
export const DEFAULT_STACK_NAME = 'CriminalIpOpenCti';

export function buildApp(app: App = new App()): { app: App; stack: CriminalIpOpenCtiStack } {
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new CriminalIpOpenCtiStack(app, stackName);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
