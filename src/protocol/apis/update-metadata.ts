/**
 * UpdateMetadata: the controller pushes its whole metadata image to a broker
 * of its cluster, after every change and again on each heartbeat tick until
 * the broker has acknowledged it (docs/cluster.md, *The image at run time*).
 * The image is small: brokers, topics, and per partition its replicas, ISR,
 * leader and epochs.
 *
 * UpdateMetadata Request (Version: 0) => controllerId controllerEpoch image
 *   controllerId => int32 ≥ 0         the controller sending the image; the image's own controllerId
 *   controllerEpoch => int32 ≥ 0      its epoch; the image's own controllerEpoch
 *   image => controllerEpoch controllerId metadataOffset brokers topics
 *     controllerEpoch => int32 ≥ 0
 *     controllerId => int32 ≥ -1      -1: no controller yet
 *     metadataOffset => int64 ≥ 0     bumped by every change; (controllerEpoch, metadataOffset) is the version
 *     brokers => [id host port live]  every broker of the --cluster list, by id
 *       id => int32 ≥ 0
 *       host => string
 *       port => int32 ≥ 0
 *       live => bool                  false: fenced (the controller has not heard from it within a session)
 *     topics => [name configs partitions]
 *       name => string
 *       configs => [name value]       the topic's own configs, Kafka's keys
 *         name => string
 *         value => string
 *       partitions => [replicas isr leader leaderEpoch partitionEpoch]   by partition index
 *         replicas => [int32 ≥ 0]     the assigned replicas; the first is the preferred leader
 *         isr => [int32 ≥ 0]          the in-sync replicas, in replica order
 *         leader => int32 ≥ -1        -1: no leader
 *         leaderEpoch => int32 ≥ 0
 *         partitionEpoch => int32 ≥ 0
 *
 * UpdateMetadata Response (Version: 0) => errorCode controllerEpoch metadataOffset
 *   errorCode => int16                STALE_CONTROLLER_EPOCH (11): the receiver holds an image of a newer controller
 *   controllerEpoch => int32 ≥ 0      the version of the image the receiver has applied, after this push
 *   metadataOffset => int64 ≥ 0       the same
 *
 * A broker takes a push only when its version is newer than the image it
 * holds, or the same (then it only acknowledges again); it persists the
 * image, hands it to its replica manager, and only then answers. An older
 * push from the same controller is answered NONE with the newer version.
 * Kafka's UpdateMetadata (api key 6, ZooKeeper mode) carries the partition
 * states that changed and the live brokers; KRaft replaced it by brokers
 * fetching the metadata log. Here the whole image goes every time.
 */
import { int16, nonNegativeInt32, nonNegativeInt64, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';
import { metadataImage } from './metadata-image.js';

const request = struct({
  controllerId: nonNegativeInt32,
  controllerEpoch: nonNegativeInt32,
  image: metadataImage,
});

const response = struct({
  errorCode: int16,
  controllerEpoch: nonNegativeInt32,
  metadataOffset: nonNegativeInt64,
});

export type UpdateMetadataRequest = Infer<typeof request>;
export type UpdateMetadataResponse = Infer<typeof response>;
export const updateMetadataApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
