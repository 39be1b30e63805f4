/** The bare ceiling's activities: no I/O, so what remains is the server's and the SDK's cost. */
export const ceilingActivities = {
  async probeStart(): Promise<string> {
    return 'started';
  },
  async probeWork(): Promise<void> {},
};

export type CeilingActivities = typeof ceilingActivities;
