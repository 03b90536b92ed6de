/**
 * The schedule Lambda (EventBridge Scheduler invokes it with {task}): a thin adapter over the
 * scheduled use cases of lib/pipeline/schedule-tasks.ts.
 */
import type { Context } from 'aws-lambda';
import {
  createScheduleTasks,
  runScheduleTask,
  type ScheduleDeps,
  type ScheduleResult,
  type ScheduleTask,
} from '../../lib/pipeline/schedule-tasks';

export {
  REGISTRATION_MARK_TTL_SECONDS,
  SCHEDULE_TASKS,
  UnknownTaskError,
  registrationMark,
  type ScheduleDeps,
  type ScheduleResult,
  type ScheduleTask,
} from '../../lib/pipeline/schedule-tasks';

export function createScheduleHandler(
  deps: ScheduleDeps,
): (event: { task: ScheduleTask }) => Promise<ScheduleResult> {
  const tasks = createScheduleTasks(deps);
  return (event) => runScheduleTask(tasks, event?.task);
}

let awsHandler:
  Promise<(event: { task: ScheduleTask }, context: Context) => Promise<ScheduleResult>> | undefined;

/** The Lambda entry point: AWS adapters built on first use (./aws), never loaded locally. */
export const handler = async (event: { task: ScheduleTask }, context: Context): Promise<ScheduleResult> => {
  awsHandler ??= import('./aws').then((m) => m.awsScheduleHandler());
  return (await awsHandler)(event, context);
};
