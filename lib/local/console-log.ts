/**
 * The Log port for a terminal: readable lines (`12:04:05 INFO  message key=value`) by default, or
 * one JSON object per line with LOG_FORMAT=json (what Lambda writes, handy for piping to jq).
 *
 * Lines go to stderr: stdout belongs to what a command prints as its result (a bundle, a table).
 * Attributes whose name says they hold a secret are masked, as in Lambda.
 */
import { maskSecrets } from '../aws/observability';
import { ConfigError } from '../config';
import type { Log } from '../core/log';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogFormat = 'text' | 'json';

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface ConsoleLogOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
  now?: () => Date;
}

/** LOG_FORMAT from the environment: `text` (default) or `json`. */
export function logFormatFrom(env: Record<string, string | undefined>): LogFormat {
  const raw = env.LOG_FORMAT?.trim().toLowerCase();
  if (!raw || raw === 'text') return 'text';
  if (raw === 'json') return 'json';
  throw new ConfigError('LOG_FORMAT', `must be text or json (got "${raw.slice(0, 20)}")`);
}

function renderValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${value.message}`);
  if (typeof value === 'string') return /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  // JSON has no form for a function or a symbol: its type says what it was.
  return JSON.stringify(value) ?? `<${typeof value}>`;
}

/** `key=value` pairs of the attributes, values quoted when they hold spaces or symbols. */
export function renderAttributes(extra: Record<string, unknown> | undefined): string {
  if (!extra) return '';
  return Object.entries(extra)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${renderValue(value)}`)
    .join(' ');
}

function clockTime(date: Date): string {
  return date.toISOString().slice(11, 19);
}

export function createConsoleLog(options: ConsoleLogOptions = {}): Log {
  const threshold = RANK[options.level ?? 'INFO'];
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());

  const emit = (level: LogLevel) => (message: string, extra?: Record<string, unknown>) => {
    if (RANK[level] < threshold) return;
    const masked = extra === undefined ? undefined : (maskSecrets(extra) as Record<string, unknown>);
    if (format === 'json') {
      const errorsAsText = masked
        ? Object.fromEntries(
            Object.entries(masked).map(([k, v]) => [k, v instanceof Error ? `${v.name}: ${v.message}` : v]),
          )
        : {};
      write(JSON.stringify({ level, timestamp: now().toISOString(), message, ...errorsAsText }));
      return;
    }
    const attributes = renderAttributes(masked);
    write(`${clockTime(now())} ${level.padEnd(5)} ${message}${attributes ? `  ${attributes}` : ''}`);
  };

  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}
