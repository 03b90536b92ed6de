/**
 * Least privilege in the CDK stack (synthesized with X-Ray tracing on, the setting that adds the
 * most statements): no IAM statement grants a `*` action or a whole service, and every resource
 * wildcard is one that cdk-nag flags (AwsSolutions-IAM5) and the stack acknowledges, with its
 * reason, on the role that holds it.
 */
import { Validations, type CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { asList, identityStatements, render, synthStack } from '../infra/support';

/** Acknowledged rule ids (with their reasons) on a construct and its ancestors. */
function acknowledgements(construct: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (let node: IConstruct | undefined = construct; node; node = node.node.scope) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.set(key.replace(/^Annotation::/, ''), reason);
      }
    }
  }
  return found;
}

it('grants no wildcard action, and no resource wildcard that is not acknowledged with a reason', () => {
  const { stack, template } = synthStack({ context: { tracing: true } });
  // Roles by logical id, to find the acknowledgements made on them.
  const roles = new Map<string, IConstruct>();
  for (const construct of stack.node.findAll()) {
    const element = construct.node.defaultChild as CfnElement | undefined;
    if (element && (element as { cfnResourceType?: string }).cfnResourceType === 'AWS::IAM::Role') {
      roles.set(Stack.of(construct).getLogicalId(element), construct);
    }
  }

  const problems: string[] = [];
  let statements = 0;
  let wildcards = 0;
  for (const { roles: roleIds, statement } of identityStatements(template)) {
    statements += 1;
    if ('NotAction' in statement || 'NotResource' in statement)
      problems.push(`${roleIds.join(',')}: NotAction/NotResource`);
    if (statement.Effect !== 'Allow') continue;
    for (const action of asList(statement.Action)) {
      if (action === '*' || /^[a-z0-9-]+:\*$/i.test(action))
        problems.push(`${roleIds.join(',')}: action ${action}`);
    }
    for (const resource of asList(statement.Resource)) {
      const text = render(resource);
      if (!text.includes('*')) continue;
      wildcards += 1;
      const finding = `AwsSolutions-IAM5[Resource::${text}]`;
      for (const roleId of roleIds) {
        const role = roles.get(roleId);
        const reason = role ? acknowledgements(role).get(finding) : undefined;
        if (!reason || reason.trim().length < 20)
          problems.push(`${roleId}: ${text} is not acknowledged with a reason`);
      }
    }
  }
  console.log(
    `IAM: ${statements} identity statements, 0 wildcard actions, ${wildcards} resource wildcards, each acknowledged`,
  );
  expect(problems).toEqual([]);
  expect(statements).toBeGreaterThan(10);
});
