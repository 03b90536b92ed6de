/**
 * A small in-memory table behind aws-sdk-client-mock's DynamoDBDocumentClient mock: Get, Put,
 * Delete and Update (`ADD #a :v, ... SET #b = :v, ...`) by `pk`, with the condition forms the
 * product uses: an AND of parenthesised ORs of attribute_not_exists(#a), #a < :v, #a <= :v and
 * #a = :v. Each command is applied whole before the next one starts, as DynamoDB applies one
 * item's update atomically. Expiry is not applied: like DynamoDB, items stay until removed.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;
interface ConditionInput {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

function holds(item: Item | undefined, input: ConditionInput): boolean {
  if (!input.ConditionExpression) return true;
  const name = (token: string) => input.ExpressionAttributeNames?.[token] ?? token;
  const value = (token: string) => input.ExpressionAttributeValues?.[token];
  const clauseHolds = (clause: string) => {
    const notExists = /^attribute_not_exists\((#\w+)\)$/.exec(clause.trim());
    if (notExists) return item === undefined || item[name(notExists[1]!)] === undefined;
    const compare = /^(#\w+) (<=|<|=) (:\w+)$/.exec(clause.trim());
    if (!compare) throw new Error(`fake-dynamo cannot evaluate "${clause}"`);
    if (item === undefined || item[name(compare[1]!)] === undefined) return false;
    const left = item[name(compare[1]!)] as number | string;
    const right = value(compare[3]!) as number | string;
    if (compare[2] === '<') return left < right;
    return compare[2] === '<=' ? left <= right : left === right;
  };
  return input.ConditionExpression.split(' AND ').every((group) =>
    group
      .trim()
      .replace(/^\((.*)\)$/, '$1')
      .split(' OR ')
      .some(clauseHolds),
  );
}

/** Applies `ADD #a :v, ...` and `SET #b = :v, ...` to a copy of the item. */
function updated(item: Item, input: ConditionInput & { UpdateExpression: string }): Item {
  const name = (token: string) => input.ExpressionAttributeNames?.[token] ?? token;
  const value = (token: string) => input.ExpressionAttributeValues?.[token];
  const next = { ...item };
  for (const [, action, body] of input.UpdateExpression.matchAll(/(ADD|SET) (.*?)(?= ADD | SET |$)/g)) {
    for (const part of body!.split(',')) {
      const [left, right] = action === 'ADD' ? part.trim().split(' ') : part.trim().split(' = ');
      if (!left || !right) throw new Error(`fake-dynamo cannot apply "${part}"`);
      const current = next[name(left)];
      next[name(left)] =
        action === 'ADD'
          ? (typeof current === 'number' ? current : 0) + (value(right) as number)
          : value(right);
    }
  }
  return next;
}

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

export function fakeDynamo() {
  const items = new Map<string, Item>();
  const mock = mockClient(DynamoDBDocumentClient);
  mock.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
    const item = items.get(input.Key.pk);
    return { Item: item ? structuredClone(item) : undefined };
  });
  mock.on(PutCommand).callsFake((input: ConditionInput & { Item: Item }) => {
    const pk = input.Item.pk as string;
    if (!holds(items.get(pk), input)) throw conditionFailed();
    items.set(pk, structuredClone(input.Item));
    return {};
  });
  mock
    .on(UpdateCommand)
    .callsFake((input: ConditionInput & { Key: { pk: string }; UpdateExpression: string }) => {
      const current = items.get(input.Key.pk);
      if (!holds(current, input)) throw conditionFailed();
      items.set(input.Key.pk, updated(current ?? { pk: input.Key.pk }, input));
      return {};
    });
  mock.on(DeleteCommand).callsFake((input: ConditionInput & { Key: { pk: string } }) => {
    if (!holds(items.get(input.Key.pk), input)) throw conditionFailed();
    items.delete(input.Key.pk);
    return {};
  });
  return { items, mock };
}
