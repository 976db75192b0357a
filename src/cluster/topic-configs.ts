/**
 * The topic configs the controller reads, with Kafka's names and defaults.
 * Configs travel and are stored as strings, as in CreateTopics; any other
 * key passes through untouched (the broker checks the log's own keys).
 */
import { type ControllerError, ControllerErrorName, controllerError } from './errors.js';
import type { TopicImage } from './metadata-image.js';

export const MIN_INSYNC_REPLICAS = 'min.insync.replicas';
export const UNCLEAN_LEADER_ELECTION_ENABLE = 'unclean.leader.election.enable';

/** Kafka's defaults: acks=all needs only the leader; a leader always comes from the ISR. */
export const DEFAULT_MIN_INSYNC_REPLICAS = 1;
export const DEFAULT_UNCLEAN_LEADER_ELECTION_ENABLE = false;

/**
 * min.insync.replicas: how many ISR members (the leader included) an acks=all
 * produce needs. The controller only stores it: the leader enforces it
 * (src/replication/high-watermark.ts). Without KIP-966 (eligible leader
 * replicas) Kafka's controller does not read it either.
 */
export function minInsyncReplicas(topic: TopicImage): number {
  const v = topic.configs[MIN_INSYNC_REPLICAS];
  return v === undefined ? DEFAULT_MIN_INSYNC_REPLICAS : Number(v);
}

export function uncleanLeaderElectionEnabled(topic: TopicImage): boolean {
  const v = topic.configs[UNCLEAN_LEADER_ELECTION_ENABLE];
  return v === undefined ? DEFAULT_UNCLEAN_LEADER_ELECTION_ENABLE : v === 'true';
}

/** INVALID_CONFIG for a value of a controller key that does not parse; undefined when all is well. */
export function checkTopicConfigs(
  configs: Readonly<Record<string, string>>,
): ControllerError | undefined {
  for (const [key, value] of Object.entries(configs)) {
    if (typeof value !== 'string') {
      return controllerError(ControllerErrorName.INVALID_CONFIG, `${key} must be a string`);
    }
  }
  const minIsr = configs[MIN_INSYNC_REPLICAS];
  if (minIsr !== undefined && !(/^\d+$/.test(minIsr) && Number(minIsr) >= 1)) {
    return controllerError(
      ControllerErrorName.INVALID_CONFIG,
      `${MIN_INSYNC_REPLICAS} must be an integer of at least 1, not "${minIsr}"`,
    );
  }
  const unclean = configs[UNCLEAN_LEADER_ELECTION_ENABLE];
  if (unclean !== undefined && unclean !== 'true' && unclean !== 'false') {
    return controllerError(
      ControllerErrorName.INVALID_CONFIG,
      `${UNCLEAN_LEADER_ELECTION_ENABLE} must be true or false, not "${unclean}"`,
    );
  }
  return undefined;
}

/** The topic configs the controller reads; every other key is the log's. */
export const CONTROLLER_TOPIC_KEYS: ReadonlySet<string> = new Set([
  MIN_INSYNC_REPLICAS,
  UNCLEAN_LEADER_ELECTION_ENABLE,
]);

/** The configs without the controller's keys: what a broker's log takes (resolveLogConfig). */
export function logTopicConfigs(configs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(configs).filter(([key]) => !CONTROLLER_TOPIC_KEYS.has(key)),
  );
}
