/**
 * cdk-nag v3 (AWS Solutions) runs on every synth of the app: the stack must pass it, with each
 * finding either fixed or acknowledged with its reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { appWithNag, removeTempDirs } from './support';

afterAll(removeTempDirs);

function synthError(synth: () => unknown): string {
  try {
    synth();
  } catch (e) {
    return String(e);
  }
  return '';
}

describe('cdk-nag AwsSolutionsChecks', () => {
  it('passes the default stack (cdk.json context)', () => {
    const { app, outdir } = appWithNag();
    expect(synthError(() => app.synth())).toBe('');
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: Array<{ severity: string }> }>;
    };
    // Only the cdk.json placeholder warning remains: no error, and no rule warning.
    const violations = report.pluginReports.flatMap((r) =>
      r.violations.map((v) => ({ plugin: r.pluginName, ...v })),
    );
    expect(violations).toEqual([
      expect.objectContaining({ plugin: 'Construct Annotations', severity: 'warning' }),
    ]);
  });

  it('passes with the alarm topic, X-Ray tracing and real settings', () => {
    const { app } = appWithNag({
      alarmEmail: 'soc@acme.test',
      tracing: true,
      openctiUrl: 'https://cti.acme.test',
      connectorId: '7d4c5a3e-9a51-4a53-8e43-2f5b4b1c0c11',
    });
    expect(synthError(() => app.synth())).toBe('');
  });

  it('fails synth on a finding nobody acknowledged', () => {
    const { app, stack } = appWithNag();
    new sqs.Queue(stack, 'Unreviewed');
    const error = synthError(() => app.synth());
    expect(error).toContain('AwsSolutions-SQS3');
    expect(error).toContain('AwsSolutions-SQS4');
  });
});
