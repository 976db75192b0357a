/**
 * DeleteGroups: remove empty groups and their committed offsets (tombstones
 * in `__consumer_offsets`). A group with members is NON_EMPTY_GROUP; an
 * unknown one GROUP_ID_NOT_FOUND.
 *
 * DeleteGroups Request (Version: 0) => groupsNames
 *   groupsNames => [string]
 *
 * DeleteGroups Response (Version: 0) => results
 *   results => [groupId errorCode]
 *     groupId => string
 *     errorCode => int16
 */
import { array, int16, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({ groupsNames: array(string) });

const response = struct({ results: array(struct({ groupId: string, errorCode: int16 })) });

export type DeleteGroupsRequest = Infer<typeof request>;
export type DeleteGroupsResponse = Infer<typeof response>;
export const deleteGroupsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
