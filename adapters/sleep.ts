/** Waits `ms` milliseconds: the one sleep of the service, its scripts and its CLI (not of workflows, which use Temporal's). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
