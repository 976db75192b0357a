/**
 * UpdateMetadata: the controller pushes its image; FetchSnapshot: a broker
 * taking over as the controller asks for this broker's. Both go to the
 * broker's ClusterRuntime (src/cluster/runtime/): the push is taken or
 * refused by its ImageSync and answered once applied. A broker without
 * `--cluster` holds no image: it answers INVALID_REQUEST.
 */
import { clusterRuntime } from '../../cluster/runtime/index.js';
import { imageToWire } from '../../cluster/runtime/index.js';
import { emptyImage } from '../../cluster/metadata-image.js';
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from './context.js';

export const updateMetadata: Handler<'UpdateMetadata'> = (broker, body) => {
  const runtime = clusterRuntime(broker);
  if (runtime !== undefined) return runtime.receivePush(body);
  broker.logger.warn(
    `an image from broker ${body.controllerId}, but this broker was started without --cluster: refused`,
  );
  return { errorCode: ErrorCode.INVALID_REQUEST, controllerEpoch: 0, metadataOffset: 0 };
};

export const fetchSnapshot: Handler<'FetchSnapshot'> = (broker, body) => {
  const runtime = clusterRuntime(broker);
  if (runtime !== undefined) return runtime.snapshot(body);
  return { errorCode: ErrorCode.INVALID_REQUEST, image: imageToWire(emptyImage([])) };
};
