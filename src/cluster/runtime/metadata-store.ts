/**
 * Where a broker keeps the last metadata image it accepted:
 * `<data-dir>/cluster-metadata.json`, the text of `imageToJson`, written
 * atomically (a temporary file, fsync, rename, fsync the directory), so a
 * crash leaves the old image or the new one, never half of either.
 *
 * A file that does not parse, or breaks an invariant of the image (a disk
 * or a hand damaged it), is logged, moved aside to
 * `cluster-metadata.json.corrupt` for a person to look at, and treated as
 * absent: the broker starts from the empty image and learns the cluster's
 * from the controller's next push, or, when it becomes the controller, from
 * its live peers (FetchSnapshot). The image is held by every broker, so one
 * broker's copy is not the only one; refusing to start would keep a broker
 * down for what its peers can repair. The cost is in docs/cluster.md: a
 * broker that becomes the controller with no live peer starts empty.
 */
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../broker/data-dir.js';
import type { Logger } from '../../log/index.js';
import { type MetadataImage, imageFromJson, imageToJson } from '../metadata-image.js';

export const CLUSTER_METADATA_FILE = 'cluster-metadata.json';

export interface MetadataStore {
  /** The image saved last, or undefined when there is none (or it was damaged: see above). */
  load(): MetadataImage | undefined;
  /** Saves the image, durably, before it returns; throws when the disk fails. */
  save(image: MetadataImage): void;
}

export function fileMetadataStore(dataDir: string, logger: Logger): MetadataStore {
  const path = join(dataDir, CLUSTER_METADATA_FILE);
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      try {
        return imageFromJson(text);
      } catch (err) {
        const aside = `${path}.corrupt`;
        renameSync(path, aside);
        logger.error(
          `${path} is damaged (${err instanceof Error ? err.message : String(err)}): ` +
            `moved to ${aside}; this broker starts from an empty image and takes the cluster's ` +
            `from the controller`,
        );
        return undefined;
      }
    },
    save(image) {
      writeFileAtomic(path, imageToJson(image) + '\n');
    },
  };
}

/** For tests: an image in memory, and every image saved, in order. */
export function memoryMetadataStore(
  initial?: MetadataImage,
): MetadataStore & { readonly saved: MetadataImage[] } {
  let current = initial;
  const saved: MetadataImage[] = [];
  return {
    saved,
    load: () => current,
    save(image) {
      current = image;
      saved.push(image);
    },
  };
}
