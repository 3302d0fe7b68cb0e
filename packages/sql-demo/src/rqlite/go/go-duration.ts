// Go's time.Duration text, both ways. rqlite validates freshness, db_timeout, timeout and
// linearizable_timeout with time.ParseDuration ("1s", "500ms", "1h30m", "1.5s"), and writes
// elapsed times (/nodes time_s, /status uptime) with Duration.String.

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // micro sign
  '\u03bcs': 1_000n, // Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = 2n ** 63n - 1n;
const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/** Nanoseconds of a Go duration string, or undefined where time.ParseDuration would fail. */
export function parseGoDuration(text: string): bigint | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    const [whole, integer = '', fraction, unit = ''] = match ?? [];
    if (whole === undefined || (integer === '' && !fraction)) return undefined;
    const unitNanos = UNIT_NANOS[unit];
    if (unitNanos === undefined) return undefined;
    total += BigInt(integer || '0') * unitNanos;
    if (fraction) total += (BigInt(fraction) * unitNanos) / 10n ** BigInt(fraction.length);
    if (total > MAX_INT64 + (negative ? 1n : 0n)) return undefined;
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** Duration.String: "0s", "750ns", "1.5µs", "12.345ms", "3.2s", "2m5s", "1h0m0.5s". */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const sign = nanos < 0n ? '-' : '';
  const u = nanos < 0n ? -nanos : nanos;
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${withFraction(u, 3)}\u00b5s`;
  if (u < 1_000_000_000n) return `${sign}${withFraction(u, 6)}ms`;
  const seconds = withFraction(u % 60_000_000_000n, 9);
  const totalMinutes = u / 60_000_000_000n;
  if (totalMinutes === 0n) return `${sign}${seconds}s`;
  if (totalMinutes < 60n) return `${sign}${totalMinutes}m${seconds}s`;
  return `${sign}${totalMinutes / 60n}h${totalMinutes % 60n}m${seconds}s`;
}

/** Seconds (as timings report them) to nanoseconds, for formatGoDuration. */
export function secondsToNanos(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}

function withFraction(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const fraction = (value % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return fraction ? `${value / scale}.${fraction}` : `${value / scale}`;
}
