import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; secrets never reach them (see redact). */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.secretAccessKey', '*.password'], remove: true },
  });
}

export type { Logger };
