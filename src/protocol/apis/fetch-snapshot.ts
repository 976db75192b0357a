/**
 * FetchSnapshot: a broker about to act as the controller asks each live peer
 * for the metadata image it holds, and starts from the newest of them and its
 * own (docs/cluster.md, *When the controller changes*). So a broker that
 * comes back, and takes the role back as the lowest id, does not start from
 * the stale image it had when it stopped.
 *
 * FetchSnapshot Request (Version: 0) => brokerId
 *   brokerId => int32 ≥ 0             the broker asking
 *
 * FetchSnapshot Response (Version: 0) => errorCode image
 *   errorCode => int16                INVALID_REQUEST (42): the receiver is not in a cluster with that broker
 *   image => controllerEpoch controllerId metadataOffset brokers topics   the image the receiver has applied, as in UpdateMetadata
 *     controllerEpoch => int32 ≥ 0
 *     controllerId => int32 ≥ -1
 *     metadataOffset => int64 ≥ 0
 *     brokers => [id host port live]
 *       id => int32 ≥ 0
 *       host => string
 *       port => int32 ≥ 0
 *       live => bool
 *     topics => [name configs partitions]
 *       name => string
 *       configs => [name value]
 *         name => string
 *         value => string
 *       partitions => [replicas isr leader leaderEpoch partitionEpoch]
 *         replicas => [int32 ≥ 0]
 *         isr => [int32 ≥ 0]
 *         leader => int32 ≥ -1
 *         leaderEpoch => int32 ≥ 0
 *         partitionEpoch => int32 ≥ 0
 *
 * Kafka's FetchSnapshot (api key 59, KRaft) sends a replica that is too far
 * behind the metadata log a snapshot of it, in chunks. Here the image is the
 * whole state and is small, so it comes whole, and it goes the other way: the
 * new controller pulls from the brokers, because there is no quorum that is
 * sure to hold the latest state.
 */
import { int16, nonNegativeInt32, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';
import { metadataImage } from './metadata-image.js';

const request = struct({ brokerId: nonNegativeInt32 });

const response = struct({ errorCode: int16, image: metadataImage });

export type FetchSnapshotRequest = Infer<typeof request>;
export type FetchSnapshotResponse = Infer<typeof response>;
export const fetchSnapshotApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
