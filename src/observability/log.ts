// The process log: startup, errors, health changes, reloads. JSON lines on stderr, written
// synchronously: the volume is low, and a line written just before a crash must not be lost.
import pino from 'pino';
import type { Config } from '../config/types.ts';

export type Logger = pino.Logger;

export function createLogger(
  level: Config['logging']['level'],
  bindings: Record<string, unknown> = {},
): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 2, sync: true }),
  );
}
