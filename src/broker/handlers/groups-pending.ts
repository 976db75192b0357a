/**
 * TEMPORARY: the group APIs until the coordinator lands (being written now).
 */
import { ProtocolError } from '../../protocol/index.js';
import type { Handler } from './context.js';

const pending = (): never => {
  throw new ProtocolError('UNSUPPORTED_VERSION', 'consumer groups are not implemented yet');
};
export const findCoordinator: Handler<'FindCoordinator'> = async () => pending();
export const joinGroup: Handler<'JoinGroup'> = async () => pending();
export const syncGroup: Handler<'SyncGroup'> = async () => pending();
export const heartbeat: Handler<'Heartbeat'> = async () => pending();
export const leaveGroup: Handler<'LeaveGroup'> = async () => pending();
export const offsetCommit: Handler<'OffsetCommit'> = async () => pending();
export const offsetFetch: Handler<'OffsetFetch'> = async () => pending();
export const listGroups: Handler<'ListGroups'> = async () => pending();
export const describeGroups: Handler<'DescribeGroups'> = async () => pending();
export const deleteGroups: Handler<'DeleteGroups'> = async () => pending();
