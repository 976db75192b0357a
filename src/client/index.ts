/**
 * samsa's client: what an application imports to talk to a broker.
 *
 *   import { Admin, Consumer, Producer, stringSerde } from 'samsa';
 *
 * The rest of src/client/ is internal and may change.
 */
export { Admin, GroupState } from './admin.js';
export type {
  AdminOptions,
  ConfigEntry,
  ConfigResource,
  CreatedTopic,
  DeletedRecords,
  GroupDescription,
  GroupListing,
  GroupOffset,
  GroupResult,
  MemberDescription,
  NewTopic,
  OffsetToCommit,
  PartitionReplicas,
  PartitionResult,
  ReplicaLogEndOffset,
  TopicReplicas,
  TopicResult,
} from './admin.js';
export { Consumer } from './consumer.js';
export type {
  CommitOffset,
  CommittedOffset,
  ConsumerGroupMetadata,
  ConsumerOptions,
  ConsumerRecord,
} from './consumer.js';
export type { GroupOptions, RebalanceListener } from './group/options.js';
export { ASSIGNORS, rangeAssignor, roundRobinAssignor } from './group/assignors.js';
export type {
  AssignorName,
  GroupAssignment,
  GroupMemberSubscription,
  PartitionAssignor,
} from './group/assignors.js';
export {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './group/consumer-protocol.js';
export type { Assignment, Subscription, TopicPartitions } from './group/consumer-protocol.js';
export { Producer } from './producer.js';
export type { ProducerOptions, ProducerRecord, RecordMetadata } from './producer.js';
export type { ClientOptions, PartitionMetadata, TopicMetadata } from './cluster.js';
export type { ListedOffset, OffsetQuery, TopicPartition } from './list-offsets.js';
export { Connection } from './connection.js';
export type { ConnectionOptions, RequestOptions } from './connection.js';
export { DEFAULT_BROKER, formatAddress, parseBrokerAddress } from './address.js';
export type { BrokerAddress } from './address.js';
export { ClientError, ClientErrorCode } from './errors.js';
export { murmur2, partitionForKey, toPositive } from './partitioner.js';
export { bytesSerde, jsonSerde, msgpackSerde, serdes, stringSerde } from './serde.js';
export type { Deserializer, Serde, Serializer } from './serde.js';
