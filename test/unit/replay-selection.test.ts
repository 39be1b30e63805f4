import { describe, expect, it } from 'vitest';
import { inModifiedWindow, instantNanoseconds, modifiedWindow } from '../../domain/replay-selection.ts';

describe('modified-time window [modified_since, modified_before)', () => {
  const window = modifiedWindow({
    modified_since: '2026-12-01T10:00:00Z',
    modified_before: '2026-12-01T11:00:00.000Z',
  });

  it('holds an object exactly at modified_since, not one exactly at modified_before', () => {
    expect(inModifiedWindow(window, '2026-12-01T10:00:00.000Z')).toBe(true);
    expect(inModifiedWindow(window, '2026-12-01T11:00:00.000Z')).toBe(false);
    expect(inModifiedWindow(window, '2026-12-01T09:59:59.999Z')).toBe(false);
    expect(inModifiedWindow(window, '2026-12-01T10:59:59.999Z')).toBe(true);
  });

  it('compares instants, whatever their offset, to the nanosecond', () => {
    expect(inModifiedWindow(window, '2026-12-01T11:30:00+01:00')).toBe(true);
    expect(
      instantNanoseconds('2026-12-01T10:00:00.000000001Z')! - instantNanoseconds('2026-12-01T10:00:00Z')!,
    ).toBe(1n);
    const tight = modifiedWindow({ modified_since: '2026-12-01T10:00:00.0000001Z', modified_before: null });
    expect(inModifiedWindow(tight, '2026-12-01T10:00:00.000Z')).toBe(false);
    expect(inModifiedWindow(tight, '2026-12-01T10:00:00.001Z')).toBe(true);
  });

  it('an open bound holds everything on its side', () => {
    const since = modifiedWindow({ modified_since: '2026-12-01T10:00:00Z', modified_before: null });
    expect(inModifiedWindow(since, '2099-01-01T00:00:00Z')).toBe(true);
    const none = modifiedWindow({ modified_since: null, modified_before: null });
    expect(inModifiedWindow(none, 'not a date')).toBe(true);
  });

  it('refuses what is not RFC 3339', () => {
    expect(instantNanoseconds('2026-12-01')).toBeUndefined();
    expect(instantNanoseconds('2026-12-01T10:00:00')).toBeUndefined();
  });
});
