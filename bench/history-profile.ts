/**
 * What a replay costs the Temporal server and where its time goes, read from its workflow
 * histories (every run): events, workflow tasks and activities; the time inside the publishing
 * activities, and the orchestration gap between one publishPages completing and the next starting
 * (workflow task, continue-as-new, dispatch): the coordinator's own cost per slice.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function millis(event: HistoryEvent): number {
  const time = event.eventTime;
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

export interface HistoryProfile {
  /** Mean time inside one publishPages activity (a slice of pages). */
  slice_ms_mean: number;
  /** Mean time from a publishPages' completion to the next one's start. */
  slice_gap_ms_mean: number;
}

/** The server-side cost of one replay, summed over its runs. */
export interface ReplayCost {
  runs: number;
  events: number;
  workflow_tasks: number;
  /** Activities scheduled through the server (each a task of its own). */
  activities: number;
  /** Local activities: run inside a workflow task, one marker event each. */
  local_activities: number;
}

export function replayCost(histories: HistoryEvent[][]): ReplayCost {
  const cost: ReplayCost = {
    runs: histories.length,
    events: 0,
    workflow_tasks: 0,
    activities: 0,
    local_activities: 0,
  };
  for (const events of histories) {
    cost.events += events.length;
    for (const event of events) {
      if (event.workflowTaskCompletedEventAttributes) cost.workflow_tasks += 1;
      if (event.activityTaskScheduledEventAttributes) cost.activities += 1;
      if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity')
        cost.local_activities += 1;
    }
  }
  return cost;
}

export function profileHistories(histories: HistoryEvent[][]): HistoryProfile {
  const durations: number[] = [];
  const gaps: number[] = [];
  let lastCompleted: number | undefined;
  // runs in the order they ran (a workflow list gives the newest first)
  const ordered = [...histories].sort((a, b) => millis(a[0] ?? {}) - millis(b[0] ?? {}));
  for (const events of ordered) {
    const publishing = new Set<string>();
    const started = new Map<string, number>();
    for (const event of events) {
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'publishPages') {
        publishing.add(id);
      } else if (event.activityTaskStartedEventAttributes) {
        const scheduledId = String(event.activityTaskStartedEventAttributes.scheduledEventId);
        if (!publishing.has(scheduledId)) continue;
        started.set(scheduledId, millis(event));
        if (lastCompleted !== undefined) gaps.push(millis(event) - lastCompleted);
      } else if (event.activityTaskCompletedEventAttributes) {
        const scheduledId = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        const begin = started.get(scheduledId);
        if (begin === undefined) continue;
        durations.push(millis(event) - begin);
        lastCompleted = millis(event);
      }
    }
  }
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  const round = (value: number) => Math.round(value * 10) / 10;
  return { slice_ms_mean: round(mean(durations)), slice_gap_ms_mean: round(mean(gaps)) };
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
