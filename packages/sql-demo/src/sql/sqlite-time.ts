// A log entry's timestamp in the text forms SQLite gives the current time: the 'now' time value
// (millisecond precision, as SQLite's own clock), and CURRENT_TIMESTAMP / CURRENT_DATE /
// CURRENT_TIME, all UTC.

/** The range of SQLite's date functions: years 0000 to 9999. */
export const MIN_TIMESTAMP_MS = Date.parse('0000-01-01T00:00:00.000Z');
export const MAX_TIMESTAMP_MS = Date.parse('9999-12-31T23:59:59.999Z');

export interface SqliteTimeTexts {
  /** 'YYYY-MM-DD HH:MM:SS.SSS': the exact instant, as a time value SQLite parses back to the same millisecond. */
  now: string;
  /** CURRENT_TIMESTAMP: 'YYYY-MM-DD HH:MM:SS'. */
  timestamp: string;
  /** CURRENT_DATE: 'YYYY-MM-DD'. */
  date: string;
  /** CURRENT_TIME: 'HH:MM:SS'. */
  time: string;
}

/** Throws RangeError for an instant outside SQLite's range or with a fraction of a millisecond. */
export function checkTimestamp(timestampMs: number): void {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < MIN_TIMESTAMP_MS || timestampMs > MAX_TIMESTAMP_MS) {
    throw new RangeError(`timestampMs must be a whole number of milliseconds between years 0000 and 9999, got ${timestampMs}`);
  }
}

/** The texts of an instant given in milliseconds since 1970 UTC; throws RangeError outside SQLite's range or for a fraction. */
export function sqliteTimeTexts(timestampMs: number): SqliteTimeTexts {
  checkTimestamp(timestampMs);
  const iso = new Date(timestampMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.SSSZ for these years
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  return { now: `${date} ${iso.slice(11, 23)}`, timestamp: `${date} ${time}`, date, time };
}

/** A string as a SQL literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
