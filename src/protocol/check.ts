/**
 * Field validators for decoded msgpack values. A `Check<T>` looks at one
 * value, returns it typed (a fresh object or array for maps and arrays, so
 * unknown keys are dropped), or throws a `FieldError` naming the field's path
 * (`body.topics[0].partitions[1].records`). Types are inferred from the
 * checks, so each API writes its shape once.
 */
import type { ErrorName } from './error-codes.js';

/** One field failed its check. Internal: the envelope turns it into a `ProtocolError`. */
export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly value: unknown,
    /** INVALID_REQUEST unless a field has a more precise code (acks: INVALID_REQUIRED_ACKS). */
    readonly errorName: ErrorName = 'INVALID_REQUEST',
  ) {
    super(`${path} must be ${expected}, got ${describe(value)}`);
    this.name = new.target.name;
  }
}

export type Check<T> = (value: unknown, path: string) => T;
/** A field that may be absent (or nil): its key is optional in the inferred type. */
export type OptionalCheck<T> = Check<T | undefined> & { readonly optional: true };
export type Infer<C> = C extends Check<infer T> ? T : never;

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalCheck<unknown> ? K : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type StructOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: Infer<S[K]>;
  }
>;

/** What a value is, in words, for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'nil';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return `${value}`;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'an array';
  if (isPlainObject(value)) return 'a map';
  return `a ${typeof value === 'object' ? (Object.getPrototypeOf(value)?.constructor?.name ?? 'value') : typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A map's own value for `key` (never one inherited: a missing `toString` is missing). */
export function field(map: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

export function integer(
  what: string,
  min: number,
  max: number,
  errorName?: ErrorName,
): Check<number> {
  return (value, path) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) {
      return value;
    }
    throw new FieldError(path, what, value, errorName);
  };
}

export const int8 = integer('an int8', -0x80, 0x7f);
export const int16 = integer('an int16', -0x8000, 0x7fff);
export const int32 = integer('an int32', -0x80000000, 0x7fffffff);
/** 64-bit fields hold JavaScript's safe integers: ±(2^53 − 1). */
export const int64 = integer(
  'an int64 within ±(2^53 - 1)',
  Number.MIN_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER,
);
export const nonNegativeInt16 = integer('an int16 ≥ 0', 0, 0x7fff);
export const nonNegativeInt32 = integer('an int32 ≥ 0', 0, 0x7fffffff);
export const nonNegativeInt64 = integer('an int64 in [0, 2^53 - 1]', 0, Number.MAX_SAFE_INTEGER);

/** One of a few numbers (acks, resource types), with its own error code if Kafka has one. */
export function oneOf<const V extends number>(
  values: readonly V[],
  errorName?: ErrorName,
): Check<V> {
  const what = `one of ${values.join(', ')}`;
  return (value, path) => {
    if (values.includes(value as V)) return value as V;
    throw new FieldError(path, what, value, errorName);
  };
}

export const bool: Check<boolean> = (value, path) => {
  if (typeof value === 'boolean') return value;
  throw new FieldError(path, 'a boolean', value);
};

export const string: Check<string> = (value, path) => {
  if (typeof value === 'string') return value;
  throw new FieldError(path, 'a string', value);
};

/** Bytes (msgpack bin): returned as a `Buffer` view, never copied. */
export const bytes: Check<Buffer> = (value, path) => {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  throw new FieldError(path, 'bytes (a msgpack bin)', value);
};

/** Present, and either nil or a value of `check`. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

/** May be absent; nil counts as absent (some msgpack writers cannot leave a key out). */
export function optional<T>(check: Check<T>): OptionalCheck<T> {
  const wrapped = (value: unknown, path: string) =>
    value === undefined || value === null ? undefined : check(value, path);
  return Object.assign(wrapped, { optional: true as const });
}

export function array<T>(item: Check<T>): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new FieldError(path, 'an array', value);
    const out = new Array<T>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = item(value[i], `${path}[${i}]`);
    return out;
  };
}

/** A map with these fields; other keys are ignored (and dropped). */
export function struct<S extends Shape>(shape: S): Check<StructOf<S>> {
  const keys = Object.keys(shape);
  return (value, path) => {
    if (!isPlainObject(value)) throw new FieldError(path, 'a map', value);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const checked = shape[key]!(field(value, key), `${path}.${key}`);
      if (checked !== undefined) out[key] = checked;
    }
    return out as StructOf<S>;
  };
}
