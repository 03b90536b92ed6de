/**
 * Shared by the infra tests: builds the stack the way `cdk synth` does (cdk.json context,
 * including its feature flags) and reads the synthesized template.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../infra/build-app';
import { CriminalIpOpenCtiStack } from '../../infra/stack';
import type { StackSettingsInput } from '../../infra/settings';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** cdk.json's "context": the feature flags and the example settings the CLI would pass. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** Skips NodejsFunction bundling: a test about the template does not need the bundles. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

export interface BuiltStack {
  app: App;
  stack: CriminalIpOpenCtiStack;
  template: Template;
}

/** The stack alone (no cdk-nag), with cdk.json context plus `context`, and optional prop settings. */
export function synthStack(
  options: { context?: Record<string, unknown>; settings?: StackSettingsInput } = {},
): BuiltStack {
  const app = new App({ context: { ...cdkJsonContext(), ...NO_BUNDLING, ...options.context } });
  const stack = new CriminalIpOpenCtiStack(app, 'TestStack', { settings: options.settings });
  // Template tests use cdk.json's example values on purpose; their warning is expected here.
  Validations.of(stack).acknowledge({
    id: 'Annotation::criminalip-opencti:placeholders',
    reason: 'template tests run on the cdk.json example settings',
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** A fresh cloud assembly directory; removeTempDirs() deletes them all. */
const tempDirs: string[] = [];
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The app as infra/app.ts builds it: the stack plus the cdk-nag AWS Solutions checks. */
export function appWithNag(context: Record<string, unknown> = {}) {
  const outdir = tempDir('cdk-nag-test-');
  const app = new App({ outdir, context: { ...cdkJsonContext(), ...NO_BUNDLING, ...context } });
  return { ...buildApp(app), outdir };
}

export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

type Json = unknown;

/**
 * A CloudFormation value as readable text: `{Ref: X}` → `<X>`, `{Fn::GetAtt: [X, Arn]}` →
 * `<X.Arn>`, `{Fn::Join: ['', parts]}` → the parts joined. Enough for ARNs and URLs.
 */
export function render(value: Json): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    const o = value as Record<string, Json>;
    if ('Ref' in o) return `<${String(o.Ref)}>`;
    if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return parts.map(render).join(sep);
    }
    return JSON.stringify(o);
  }
  return String(value);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Principal?: Json;
  Condition?: Json;
}

export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every statement of every identity policy in the template, with the role(s) it is attached to. */
export function identityStatements(template: Template): Array<{ roles: string[]; statement: Statement }> {
  const out: Array<{ roles: string[]; statement: Statement }> = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const props = policy.Properties as {
      Roles: Array<{ Ref: string }>;
      PolicyDocument: { Statement: Statement[] };
    };
    const roles = props.Roles.map((r) => r.Ref);
    for (const statement of props.PolicyDocument.Statement) out.push({ roles, statement });
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const inline = (role.Properties as { Policies?: Array<{ PolicyDocument: { Statement: Statement[] } }> })
      .Policies;
    for (const p of inline ?? [])
      for (const statement of p.PolicyDocument.Statement) out.push({ roles: [id], statement });
  }
  return out;
}

/** The actions granted to one role, sorted. */
export function actionsOf(template: Template, roleId: string): string[] {
  return identityStatements(template)
    .filter((s) => s.roles.includes(roleId))
    .flatMap((s) => asList(s.statement.Action))
    .sort();
}

export function resourceOf<T = Record<string, unknown>>(template: Template, id: string): T {
  const all = template.toJSON().Resources as Record<string, { Properties: T }>;
  const resource = all[id];
  if (!resource) throw new Error(`No resource ${id} in the template`);
  return resource.Properties;
}
