/**
 * Which ControllerChannel a topic handler uses in a cluster. A request a
 * client sent goes through the broker's channel (in process on the
 * controller, forwarded elsewhere); a request another broker forwarded
 * (its clientId says so: `isForwarded`) is answered here as the controller,
 * or NOT_CONTROLLER, and never forwarded again.
 */
import {
  type ControllerChannel,
  clusterRuntime,
  isForwarded,
} from '../../cluster/runtime/index.js';
import { logTopicConfigs } from '../../cluster/topic-configs.js';
import type { BrokerContext, RequestContext } from './context.js';

/** The channel for this request, or undefined for a broker without --cluster. */
export function controllerChannel(
  broker: BrokerContext,
  ctx: RequestContext,
): ControllerChannel | undefined {
  const view = broker.clusterView;
  if (view === undefined) return undefined;
  if (isForwarded(ctx.clientId)) return clusterRuntime(broker)?.controllerOnly ?? view.channel;
  return view.channel;
}

/** Checks a topic's log configs here, so a bad key fails before the controller stores it. */
export function checkLogConfigs(
  broker: BrokerContext,
  configs: Readonly<Record<string, string>>,
): void {
  broker.topics.effectiveConfig(logTopicConfigs(configs)); // throws INVALID_CONFIG naming the key
}
