/**
 * cdk-nag v3 acknowledgements. Every acknowledged finding carries the reason it is acceptable
 * here; the reasons land in the cloud assembly's validation report, where a reviewer reads them.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The id cdk-nag gives an IAM5 finding on a resource wildcard below a resource's ARN, e.g.
 * `AwsSolutions-IAM5[Resource::<Bucket1234.Arn>/jobs/*]`.
 */
export function arnWildcardFinding(resource: CfnResource, suffix: string): string {
  return `AwsSolutions-IAM5[Resource::<${Stack.of(resource).getLogicalId(resource)}.Arn>${suffix}]`;
}
