/**
 * What the connector keeps between invocations: its credentials (Secrets Manager), the ledger
 * (DynamoDB: freshness cache, idempotency, quota circuit) and the payload bucket for jobs too
 * large for a queue message.
 */
import { Duration, type CfnResource } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../../lib/aws/dynamo-ledger';
import { JOB_KEY_PREFIX } from '../../lib/aws/s3-job-store';
import { SECRET_PLACEHOLDER } from '../../lib/config/placeholders';
import { acknowledge, arnWildcardFinding } from '../nag';

/**
 * What the secret holds until the user stores the real values (docs/deploy.md). The
 * functions treat it as missing (lib/config/placeholders.ts): no route accepts it as a credential.
 */
export { SECRET_PLACEHOLDER };

/**
 * A job message lives at most as long as the dead-letter queue keeps it: SQS counts a standard
 * queue's dead-letter retention from the original enqueue. Its stored payload must outlive it
 * so that a redrive still finds it; one spare day covers clock and lifecycle lag.
 */
export function payloadExpiry(deadLetterRetention: Duration): Duration {
  return Duration.days(deadLetterRetention.toDays() + 1);
}

export interface StorageProps {
  /** How long the dead-letter queue keeps a message (see payloadExpiry). */
  readonly deadLetterRetention: Duration;
}

export class Storage extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly table: dynamodb.TableV2;
  readonly payloads: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    // The keys lib/aws/secrets.ts reads. The webhook token is generated (any random string does);
    // the Criminal IP key and the OpenCTI token can only come from the user.
    this.secret = new secretsmanager.Secret(this, 'Credentials', {
      description:
        'criminalip-opencti: JSON with CRIMINALIP_API_KEY, OPENCTI_TOKEN, WEBHOOK_TOKEN. Replace the REPLACE_ME values after deploying.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({
          CRIMINALIP_API_KEY: SECRET_PLACEHOLDER,
          OPENCTI_TOKEN: SECRET_PLACEHOLDER,
        }),
        generateStringKey: 'WEBHOOK_TOKEN',
        excludePunctuation: true,
        passwordLength: 48,
      },
    });
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'The secret holds a Criminal IP API key and an OpenCTI user token issued by those services; ' +
        'AWS cannot rotate them. Rotate them at the issuer and store the new values (docs/deploy.md).',
    );

    this.table = new dynamodb.TableV2(this, 'Ledger', {
      partitionKey: { name: LEDGER_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });

    this.payloads = new s3.Bucket(this, 'Payloads', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        {
          id: 'expire-job-payloads',
          prefix: JOB_KEY_PREFIX,
          expiration: payloadExpiry(props.deadLetterRetention),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    acknowledge(
      this.payloads,
      'AwsSolutions-S1',
      "The bucket only holds short-lived job payloads that the stack's own functions write and read " +
        'through their IAM roles; a server access log bucket would log those same calls. Use CloudTrail ' +
        'S3 data events when an audit trail is required.',
    );
  }

  /** Lets `role` store oversize jobs (every sender: lib/aws/sqs-job-queue.ts spills to S3). */
  grantPutPayloads(role: iam.IRole): void {
    this.grantPayloads(role, ['s3:PutObject']);
  }

  /** Lets `role` read stored jobs back. */
  grantReadPayloads(role: iam.IRole): void {
    this.grantPayloads(role, ['s3:GetObject']);
  }

  private grantPayloads(role: iam.IRole, actions: string[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.payloads.arnForObjects(`${JOB_KEY_PREFIX}*`)],
      }),
    );
    acknowledge(
      role,
      arnWildcardFinding(this.payloads.node.defaultChild as CfnResource, `/${JOB_KEY_PREFIX}*`),
      'Payload object keys are per job and not known in advance; the grant is limited to the ' +
        `${JOB_KEY_PREFIX} prefix of this stack's own payload bucket.`,
    );
  }
}
