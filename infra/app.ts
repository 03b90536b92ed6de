/**
 * CDK app entry point (cdk.json "app"). A configuration mistake ends synth with one line naming
 * the context key; anything else keeps its stack trace.
 */
import { buildApp } from './build-app';
import { StackConfigError } from './settings';

try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  console.error(error.message);
  // Exit now: the CDK App would otherwise synthesize the half-built app on the way out.
  process.exit(1);
}
