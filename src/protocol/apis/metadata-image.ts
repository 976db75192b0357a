/**
 * The metadata image as it travels between brokers (UpdateMetadata pushes
 * it, FetchSnapshot returns it): the fields of src/cluster/metadata-image.ts,
 * with the two maps of that type (topics by name, configs by key) as lists,
 * because a msgpack map's keys are not checked field by field here. The
 * receiver converts it back and checks every invariant of an image
 * (src/cluster/runtime/image-wire.ts); these checks only see types and ranges.
 *
 *   image => controllerEpoch controllerId metadataOffset brokers topics
 *     controllerEpoch => int32 ≥ 0
 *     controllerId => int32 ≥ -1        -1: no controller yet
 *     metadataOffset => int64 ≥ 0
 *     brokers => [id host port live]
 *     topics => [name configs partitions]
 *       configs => [name value]
 *       partitions => [replicas isr leader leaderEpoch partitionEpoch]
 */
import {
  array,
  bool,
  integer,
  nonNegativeInt32,
  nonNegativeInt64,
  string,
  struct,
  type Infer,
} from '../check.js';

/** An id where -1 means none (Kafka's NO_LEADER, no controller). */
const idOrNone = integer('an int32 ≥ -1', -1, 0x7fffffff);

export const metadataImage = struct({
  controllerEpoch: nonNegativeInt32,
  controllerId: idOrNone,
  metadataOffset: nonNegativeInt64,
  brokers: array(
    struct({ id: nonNegativeInt32, host: string, port: nonNegativeInt32, live: bool }),
  ),
  topics: array(
    struct({
      name: string,
      configs: array(struct({ name: string, value: string })),
      partitions: array(
        struct({
          replicas: array(nonNegativeInt32),
          isr: array(nonNegativeInt32),
          leader: idOrNone,
          leaderEpoch: nonNegativeInt32,
          partitionEpoch: nonNegativeInt32,
        }),
      ),
    }),
  ),
});

export type WireMetadataImage = Infer<typeof metadataImage>;
