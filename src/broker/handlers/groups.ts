/**
 * The member APIs of consumer groups: JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup. The rules are the coordinator's (src/broker/group/); these
 * only pass the request on. A JoinGroup or SyncGroup may wait (for the join
 * phase to end, for the leader's assignment): the connection is told it is
 * parked, so the member's other requests keep flowing meanwhile.
 */
import type { Handler } from './context.js';

export const joinGroup: Handler<'JoinGroup'> = (broker, body, ctx) => {
  const answer = broker.groups.joinGroup(body, {
    clientId: ctx.clientId ?? '',
    clientHost: ctx.clientHost ?? '',
  });
  ctx.parked?.();
  return answer;
};

export const syncGroup: Handler<'SyncGroup'> = (broker, body, ctx) => {
  const answer = broker.groups.syncGroup(body);
  ctx.parked?.();
  return answer;
};

export const heartbeat: Handler<'Heartbeat'> = (broker, body) => ({
  errorCode: broker.groups.heartbeat(body),
});

export const leaveGroup: Handler<'LeaveGroup'> = (broker, body) => broker.groups.leaveGroup(body);
