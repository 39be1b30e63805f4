/**
 * Where a replay's time goes, read from its workflow histories' event timestamps: the time spent
 * inside each activity type, and the orchestration gap between one publishBatch completing and the
 * next one starting (workflow task, scheduling, dispatch): the coordinator's own cost per page.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function millis(event: HistoryEvent): number {
  const time = event.eventTime;
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

export interface HistoryProfile {
  publish_ms_mean: number;
  list_ms_mean: number;
  /** Mean time from a publishBatch's completion to the next publishBatch's start. */
  page_gap_ms_mean: number;
}

export function profileHistories(histories: HistoryEvent[][]): HistoryProfile {
  const durations: Record<string, number[]> = {};
  const gaps: number[] = [];
  for (const events of histories) {
    const scheduled = new Map<string, string>();
    const started = new Map<string, number>();
    let lastPublishCompleted: number | undefined;
    for (const event of events) {
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes) {
        scheduled.set(id, event.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      } else if (event.activityTaskStartedEventAttributes) {
        const scheduledId = String(event.activityTaskStartedEventAttributes.scheduledEventId);
        started.set(scheduledId, millis(event));
        if (scheduled.get(scheduledId) === 'publishBatch' && lastPublishCompleted !== undefined) {
          gaps.push(millis(event) - lastPublishCompleted);
        }
      } else if (event.activityTaskCompletedEventAttributes) {
        const scheduledId = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        const type = scheduled.get(scheduledId) ?? '?';
        const begin = started.get(scheduledId);
        if (begin !== undefined) (durations[type] ??= []).push(millis(event) - begin);
        if (type === 'publishBatch') lastPublishCompleted = millis(event);
      }
    }
  }
  const mean = (values: number[] = []) =>
    values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    publish_ms_mean: round(mean(durations.publishBatch)),
    list_ms_mean: round(mean(durations.listStoragePage)),
    page_gap_ms_mean: round(mean(gaps)),
  };
}

/**
 * Where `POST .../replay` waits, from a new workflow's first events: how long its first workflow
 * task was queued before a worker took it, and how long that task (with the local activity that
 * creates the record, whose end answers the request) ran.
 */
export function firstTaskTimes(events: HistoryEvent[]): { queuedMs: number; runMs: number } | undefined {
  const scheduled = events.find((event) => event.workflowTaskScheduledEventAttributes);
  const started = events.find((event) => event.workflowTaskStartedEventAttributes);
  const completed = events.find((event) => event.workflowTaskCompletedEventAttributes);
  if (!scheduled || !started || !completed) return undefined;
  return { queuedMs: millis(started) - millis(scheduled), runMs: millis(completed) - millis(started) };
}
