/**
 * Where a new controller starts from: the newest of its own image and those
 * its live peers hand over (FetchSnapshot), with the brokers of the
 * --cluster list as configured now. A returning lowest id thus never starts
 * from the stale image it had when it stopped (docs/cluster.md, *When the
 * controller dies*).
 */
import type { Logger } from '../../log/index.js';
import { ErrorCode } from '../../protocol/index.js';
import type { BrokerEndpoint } from '../cluster-config.js';
import { newerImage } from '../controller.js';
import type { MetadataImage } from '../metadata-image.js';
import { imageFromWire } from './image-wire.js';
import type { PeerChannel } from './peer-transport.js';

/** The images `peers` hold; a peer that does not answer within `timeoutMs` is left out. */
export async function peerSnapshots(
  self: number,
  peers: readonly BrokerEndpoint[],
  channel: PeerChannel,
  timeoutMs: number,
  logger: Logger,
): Promise<[number, MetadataImage][]> {
  const answers = await Promise.all(
    peers.map(async (peer): Promise<[number, MetadataImage] | undefined> => {
      try {
        const answer = await channel.request(peer, 'FetchSnapshot', { brokerId: self }, timeoutMs);
        if (answer.errorCode !== ErrorCode.NONE) return undefined;
        return [peer.id, imageFromWire(answer.image)];
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        logger.warn(`broker ${peer.id} did not hand over its image: ${why}`);
        return undefined;
      }
    }),
  );
  return answers.filter((a) => a !== undefined);
}

/** The newest of `own` and the peers' images, and whose it is (for the log). */
export function newestImage(
  own: MetadataImage,
  snapshots: readonly [number, MetadataImage][],
): { image: MetadataImage; from: string } {
  let image = own;
  let from = 'its own';
  for (const [peer, snapshot] of snapshots) {
    if (newerImage(image, snapshot) === snapshot && snapshot !== image) {
      image = snapshot;
      from = `broker ${peer}'s`;
    }
  }
  return { image, from };
}

/**
 * The image with the brokers of the --cluster list: addresses as configured
 * now, a broker new to the list added as fenced. A broker the image knows
 * and the list no longer names stays (replicas may name it), and is fenced
 * by BecomeController, since it is never heard from.
 */
export function withConfiguredBrokers(
  image: MetadataImage,
  brokers: readonly BrokerEndpoint[],
): MetadataImage {
  const configured = new Map(brokers.map((b) => [b.id, b]));
  const merged = image.brokers.map((b) => {
    const c = configured.get(b.id);
    return c === undefined ? b : { ...b, host: c.host, port: c.port };
  });
  for (const b of brokers) {
    if (!image.brokers.some((known) => known.id === b.id))
      merged.push({ id: b.id, host: b.host, port: b.port, live: false });
  }
  merged.sort((a, b) => a.id - b.id);
  const same =
    merged.length === image.brokers.length &&
    merged.every((b, i) => {
      const o = image.brokers[i]!;
      return b.id === o.id && b.host === o.host && b.port === o.port && b.live === o.live;
    });
  return same ? image : { ...image, brokers: merged };
}
