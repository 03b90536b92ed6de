/**
 * A small in-memory table behind aws-sdk-client-mock's DynamoDBDocumentClient mock: Get, Put and
 * Delete by `pk`, with the condition forms the product uses (OR of attribute_not_exists(#a),
 * #a < :v and #a = :v). Expiry is not applied: like DynamoDB, items stay until removed.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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
  return input.ConditionExpression.split(' OR ').some((clause) => {
    const notExists = /^attribute_not_exists\((#\w+)\)$/.exec(clause.trim());
    if (notExists) return item === undefined || item[name(notExists[1]!)] === undefined;
    const compare = /^(#\w+) (<|=) (:\w+)$/.exec(clause.trim());
    if (!compare) throw new Error(`fake-dynamo cannot evaluate "${clause}"`);
    if (item === undefined) return false;
    const left = item[name(compare[1]!)] as number | string;
    const right = value(compare[3]!) as number | string;
    return compare[2] === '<' ? left < right : left === right;
  });
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
  mock.on(DeleteCommand).callsFake((input: ConditionInput & { Key: { pk: string } }) => {
    if (!holds(items.get(input.Key.pk), input)) throw conditionFailed();
    items.delete(input.Key.pk);
    return {};
  });
  return { items, mock };
}
