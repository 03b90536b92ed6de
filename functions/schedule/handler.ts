/**
 * The schedule Lambda (EventBridge Scheduler invokes it with {task}): a thin adapter over the
 * scheduled use cases of lib/pipeline/schedule-tasks.ts.
 */
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
