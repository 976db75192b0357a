/**
 * ListGroups: the groups this broker coordinates, with their states.
 *
 * ListGroups Request (Version: 0) => statesFilter
 *   statesFilter => optional [string]   only groups in these states (Kafka's names: "Stable", ...)
 *
 * ListGroups Response (Version: 0) => errorCode groups
 *   errorCode => int16
 *   groups => [groupId protocolType groupState]
 *     groupId => string
 *     protocolType => string             "" for a group that only commits offsets
 *     groupState => string               Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
 */
import { array, int16, optional, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({ statesFilter: optional(array(string)) });

const response = struct({
  errorCode: int16,
  groups: array(struct({ groupId: string, protocolType: string, groupState: string })),
});

export type ListGroupsRequest = Infer<typeof request>;
export type ListGroupsResponse = Infer<typeof response>;
export const listGroupsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
