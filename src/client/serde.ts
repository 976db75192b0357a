/**
 * Keys and values are bytes on the wire. These opt-in serializers turn them
 * into strings, JSON or msgpack and back; pass them as `keySerializer` /
 * `valueSerializer` (producer) or `keyDeserializer` / `valueDeserializer`
 * (consumer). A null stays null in both directions (a tombstone, or no key).
 */
import { Packr } from 'msgpackr';

export type Serializer<T> = (value: T) => Buffer | null;
export type Deserializer<T> = (bytes: Buffer | null) => T;

export interface Serde<T> {
  serialize: Serializer<T | null>;
  deserialize: Deserializer<T | null>;
}

/** Bytes as they are: the default. */
export const bytesSerde: Serde<Buffer> = {
  serialize: (value) => (value === null ? null : toBuffer(value)),
  deserialize: (bytes) => bytes,
};

export const stringSerde: Serde<string> = {
  serialize: (value) => (value === null ? null : Buffer.from(value, 'utf8')),
  deserialize: (bytes) => (bytes === null ? null : bytes.toString('utf8')),
};

export const jsonSerde: Serde<unknown> = {
  serialize: (value) => (value === null ? null : Buffer.from(JSON.stringify(value), 'utf8')),
  deserialize: (bytes) => (bytes === null ? null : (JSON.parse(bytes.toString('utf8')) as unknown)),
};

// Plain msgpack maps any language reads (no msgpackr record extension).
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export const msgpackSerde: Serde<unknown> = {
  serialize: (value) => (value === null ? null : packr.pack(value)),
  deserialize: (bytes) => (bytes === null ? null : (packr.unpack(bytes) as unknown)),
};

/** The serdes by name, as the command line names them. */
export const serdes = {
  bytes: bytesSerde,
  string: stringSerde,
  json: jsonSerde,
  msgpack: msgpackSerde,
} as const;

/** A Buffer view of bytes given as a Buffer or Uint8Array; TypeError otherwise. */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  throw new TypeError(
    `expected a Buffer or Uint8Array (or pass a serializer for ${typeof value} values), got ${typeof value}`,
  );
}
