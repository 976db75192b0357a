/**
 * OffsetCommit and OffsetFetch: a group's committed offsets, kept in
 * `__consumer_offsets` by the coordinator (src/broker/group/offsets.ts),
 * which creates the topic on the first commit.
 */
import type { Handler } from './context.js';

export const offsetCommit: Handler<'OffsetCommit'> = (broker, body) =>
  broker.groups.commitOffsets(body);

export const offsetFetch: Handler<'OffsetFetch'> = (broker, body) =>
  broker.groups.fetchOffsets(body);
