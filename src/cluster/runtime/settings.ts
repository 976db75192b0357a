/**
 * The cluster's settings arrive with the broker's (`--config
 * broker.heartbeat.interval.ms=100`, or `config` in code), under Kafka's
 * KRaft names. The broker's config table does not know them: the broker
 * takes them out here and gives them to `clusterConfig`, which checks them.
 */
import { type ClusterConfig, clusterConfig } from '../cluster-config.js';

export const CLUSTER_SETTING_KEYS = [
  'broker.heartbeat.interval.ms',
  'broker.session.timeout.ms',
] as const;
type ClusterSettingKey = (typeof CLUSTER_SETTING_KEYS)[number];

type Input = Readonly<Record<string, string | number | boolean>>;

/** Splits a broker config input into the cluster's settings (as numbers) and the rest. */
export function splitClusterSettings(input: Input = {}): {
  cluster: Partial<Record<ClusterSettingKey, number>>;
  rest: Record<string, string | number | boolean>;
} {
  const cluster: Partial<Record<ClusterSettingKey, number>> = {};
  const rest: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(input)) {
    if ((CLUSTER_SETTING_KEYS as readonly string[]).includes(key)) {
      // A string from the command line; clusterConfig refuses what is not a positive integer (NaN included).
      if (value !== undefined) cluster[key as ClusterSettingKey] = Number(value);
    } else {
      rest[key] = value;
    }
  }
  return { cluster, rest };
}

/** The ClusterConfig of a broker started with `--id` and `--cluster`, its settings taken from `input`. */
export function brokerClusterConfig(
  brokerId: number,
  cluster: string,
  input?: Input,
): ClusterConfig {
  return clusterConfig({ brokerId, cluster, ...splitClusterSettings(input).cluster });
}
