/**
 * Small text helpers shared by the commands' plain-words output: counts with
 * their noun, times with their ISO form, durations and sizes people can read.
 */

/** `1 segment`, `3 segments`. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `1700000000000 (2023-11-14T22:13:20.000Z)`; a negative or impossible time stays a number. */
export function time(ms: number): string {
  const date = new Date(ms);
  return ms >= 0 && !Number.isNaN(date.getTime()) ? `${ms} (${date.toISOString()})` : String(ms);
}

/** The ISO form alone, or the number when it is not a time. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return ms >= 0 && !Number.isNaN(date.getTime()) ? date.toISOString() : String(ms);
}

const UNITS: [number, string][] = [
  [24 * 60 * 60 * 1000, 'd'],
  [60 * 60 * 1000, 'h'],
  [60 * 1000, 'min'],
  [1000, 's'],
];

/** `7 d`, `2 h 5 min`, `1.5 s`, `12 ms`: the two largest units, enough to compare by eye. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let left = Math.abs(ms);
  if (left < 1000) return `${sign}${Math.round(left)} ms`;
  if (left < 60_000) return `${sign}${(left / 1000).toFixed(left < 10_000 ? 1 : 0)} s`;
  const parts: string[] = [];
  for (const [size, unit] of UNITS) {
    if (left >= size && parts.length < 2) {
      parts.push(`${Math.floor(left / size)} ${unit}`);
      left %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return sign + parts.join(' ');
}

/** `512 bytes`, `51200 bytes (50.0 KiB)`. */
export function bytes(n: number): string {
  if (Math.abs(n) < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${n} bytes (${value.toFixed(1)} ${units[unit]})`;
}

/** The change from `before` to `after` as a signed percentage: `-87.5%`. */
export function change(before: number, after: number): string {
  if (before === 0) return after === 0 ? '0%' : '+∞%';
  const pct = ((after - before) / before) * 100;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}
