/**
 * The way to the controller from any broker (channels.ts, `ControllerChannel`).
 * On the acting controller a call is an event for the ControllerService, in
 * process; on any other broker it is forwarded over the PeerChannel as the
 * request a client would send (CreateTopics, DeleteTopics, AlterConfigs,
 * AlterPartition), under the controller-channel clientId, so the controller
 * handles it as the controller and never forwards it again (Kafka's KIP-590
 * forwarding).
 *
 * Retries. NOT_CONTROLLER, a controller that does not answer, or this broker
 * taking the role over: the call tries again, every `retryBackoffMs`, on
 * whoever the ClusterNode names the controller then, until `timeoutMs`
 * (`request.timeout.ms`) has passed since it began; then REQUEST_TIMED_OUT
 * with the last reason. Any other refusal ends it at once, with the
 * controller's error (TOPIC_ALREADY_EXISTS, FENCED_LEADER_EPOCH, ...).
 *
 * A call resolves only once THIS broker has applied an image with the
 * change: on the controller, the step's own image; elsewhere, the first
 * applied image where the change shows (the topic exists, is gone, has the
 * configs, the partition epoch has reached the controller's answer). So
 * never wait for a call inside ImageListener.applyImage: the image it waits
 * for is applied after that call returns.
 */
import type { Scheduler } from '../../broker/group/scheduler.js';
import type { Logger } from '../../log/index.js';
import { ConfigResourceType, ErrorCode, ProtocolError } from '../../protocol/index.js';
import type { AlterPartitionRequest } from '../alter-partition.js';
import type { BrokerEndpoint, ClusterConfig } from '../cluster-config.js';
import type { ControllerEvent, ControllerResult } from '../controller.js';
import { type MetadataImage, type PartitionRegistration, partitionOf } from '../metadata-image.js';
import type { ControllerChannel, CreateTopicCall } from './channels.js';
import type { ClusterState } from './cluster-node.js';
import type { ControllerService } from './controller-service.js';
import type { ImageSync } from './image-sync.js';
import type { PeerChannel } from './peer-transport.js';

export interface ChannelOptions {
  config: ClusterConfig;
  node: { state(): ClusterState };
  service: ControllerService;
  sync: ImageSync;
  peers: PeerChannel;
  scheduler: Scheduler;
  logger: Logger;
  /** `request.timeout.ms`: how long a call may try before REQUEST_TIMED_OUT. */
  timeoutMs: number;
  /** The pause between two tries. */
  retryBackoffMs: number;
}

/** What a forwarded request came back with: retry, or done (then wait until the image shows it). */
type Forwarded<T> =
  | { readonly retry: string }
  | {
      readonly shows: (image: MetadataImage) => boolean;
      /** The call's value, from the first applied image that shows the change. */
      readonly value: (image: MetadataImage) => T;
    };

interface Call<T> {
  readonly what: string;
  readonly event: ControllerEvent;
  readonly validateOnly?: boolean;
  /** The answer on the controller, from its step's result. */
  readonly local: (result: ControllerResult) => T;
  /** The request to the controller, and how to read its answer. */
  readonly forward: (controller: BrokerEndpoint, timeoutMs: number) => Promise<Forwarded<T>>;
}

export class ClusterControllerChannel implements ControllerChannel {
  private readonly options: ChannelOptions;
  /** False: the calls of a forwarded request, answered here as the controller or NOT_CONTROLLER. */
  private readonly forwarding: boolean;
  private closed = false;
  private readonly cancels = new Set<() => void>();

  constructor(options: ChannelOptions, forwarding = true) {
    this.options = options;
    this.forwarding = forwarding;
  }

  // #region calls
  createTopic(call: CreateTopicCall): Promise<void> {
    const { name, partitions, replicationFactor, configs, validateOnly } = call;
    return this.run({
      what: `creating topic ${name}`,
      event: { type: 'CreateTopic', name, partitions, replicationFactor, configs },
      validateOnly,
      local: () => undefined,
      forward: async (controller, timeoutMs) => {
        const answer = await this.options.peers.request(
          controller,
          'CreateTopics',
          {
            topics: [
              {
                name,
                numPartitions: partitions,
                replicationFactor,
                assignments: [],
                configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
              },
            ],
            timeoutMs: Math.floor(timeoutMs),
            validateOnly: validateOnly === true,
          },
          timeoutMs,
        );
        return this.read(controller, answer.topics[0], (image) =>
          Object.hasOwn(image.topics, name),
        );
      },
    });
  }

  deleteTopic(name: string): Promise<void> {
    return this.run({
      what: `deleting topic ${name}`,
      event: { type: 'DeleteTopic', name },
      local: () => undefined,
      forward: async (controller, timeoutMs) => {
        const answer = await this.options.peers.request(
          controller,
          'DeleteTopics',
          { topics: [{ name }], timeoutMs: Math.floor(timeoutMs) },
          timeoutMs,
        );
        return this.read(
          controller,
          answer.topics[0],
          (image) => !Object.hasOwn(image.topics, name),
        );
      },
    });
  }

  alterTopicConfigs(
    name: string,
    configs: Readonly<Record<string, string | null>>,
    validateOnly?: boolean,
  ): Promise<void> {
    return this.run({
      what: `altering the configs of topic ${name}`,
      event: { type: 'AlterTopicConfigs', topic: name, configs },
      validateOnly,
      local: () => undefined,
      forward: async (controller, timeoutMs) => {
        // Forwarded, AlterConfigs carries the change itself: a value sets a key, nil removes it.
        const answer = await this.options.peers.request(
          controller,
          'AlterConfigs',
          {
            resources: [
              {
                resourceType: ConfigResourceType.TOPIC,
                resourceName: name,
                configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
              },
            ],
            validateOnly: validateOnly === true,
          },
          timeoutMs,
        );
        return this.read(controller, answer.resources[0], (image) => {
          const topic = Object.hasOwn(image.topics, name) ? image.topics[name] : undefined;
          return (
            topic === undefined ||
            Object.entries(configs).every(([k, v]) =>
              v === null ? !Object.hasOwn(topic.configs, k) : topic.configs[k] === v,
            )
          );
        });
      },
    });
  }

  alterPartition(request: AlterPartitionRequest): Promise<PartitionRegistration> {
    const { brokerId, topic, partition, leaderEpoch, partitionEpoch, newIsr } = request;
    return this.run({
      what: `altering the ISR of ${topic}-${partition}`,
      event: { type: 'AlterPartition', ...request },
      local: (result) => result.partition!,
      forward: async (controller, timeoutMs) => {
        const answer = await this.options.peers.request(
          controller,
          'AlterPartition',
          {
            brokerId,
            topics: [
              {
                name: topic,
                partitions: [
                  { partitionIndex: partition, leaderEpoch, partitionEpoch, newIsr: [...newIsr] },
                ],
              },
            ],
          },
          timeoutMs,
        );
        if (answer.errorCode === ErrorCode.NOT_CONTROLLER)
          return { retry: `broker ${controller.id} is not the controller` };
        if (answer.errorCode !== ErrorCode.NONE)
          throw new FinalError(ProtocolError.fromCode(answer.errorCode));
        const p = answer.topics[0]?.partitions[0];
        const forwarded = this.read(controller, p, (image) => {
          const now = partitionOf(image, topic, partition);
          return now === undefined || now.partitionEpoch >= p!.partitionEpoch;
        });
        if ('retry' in forwarded) return forwarded;
        return {
          shows: forwarded.shows,
          value: (image): PartitionRegistration => ({
            replicas: partitionOf(image, topic, partition)?.replicas ?? [],
            isr: p!.isr,
            leader: p!.leaderId,
            leaderEpoch: p!.leaderEpoch,
            partitionEpoch: p!.partitionEpoch,
          }),
        };
      },
    });
  }
  // #endregion calls

  /** Fails the calls under way (the broker stops). */
  close(): void {
    this.closed = true;
    for (const cancel of [...this.cancels]) cancel();
  }

  // #region run
  private async run<T>(call: Call<T>): Promise<T> {
    const { scheduler } = this.options;
    const deadline = scheduler.now() + this.options.timeoutMs;
    let why = 'no controller is known';
    for (;;) {
      if (this.closed) throw new ProtocolError('NOT_CONTROLLER', 'this broker is shutting down');
      const remaining = deadline - scheduler.now();
      if (remaining <= 0)
        throw new ProtocolError(
          'REQUEST_TIMED_OUT',
          `${call.what}: the controller did not take it within ${this.options.timeoutMs} ms (${why})`,
        );
      const state = this.options.node.state();
      if (state.controllerId === state.brokerId && this.options.service.isActive()) {
        const done = await this.local(call, remaining);
        if (done !== undefined) return done.value;
        why = 'this broker stopped acting as the controller';
      } else if (!this.forwarding) {
        throw new ProtocolError(
          'NOT_CONTROLLER',
          `broker ${state.brokerId} is not the controller (broker ${state.controllerId} is)`,
        );
      } else if (state.controllerId === state.brokerId) {
        why = 'this broker is taking over as the controller';
      } else {
        const controller = this.options.config.brokers.find((b) => b.id === state.controllerId)!;
        let outcome: Forwarded<T>;
        try {
          outcome = await call.forward(controller, remaining);
        } catch (err) {
          if (err instanceof FinalError) throw err.error;
          outcome = { retry: `broker ${controller.id} did not answer: ${describe(err)}` };
        }
        if (!('retry' in outcome)) {
          if (call.validateOnly === true) return outcome.value(this.options.sync.image());
          const left = Math.max(1, deadline - scheduler.now());
          return outcome.value(await this.options.sync.waitUntil(outcome.shows, left));
        }
        why = outcome.retry;
      }
      this.options.logger.debug(`${call.what}: trying again (${why})`);
      await this.pause(Math.min(this.options.retryBackoffMs, Math.max(1, remaining)));
    }
  }

  /** The call as an event on this broker, the controller; undefined when it stopped being one. */
  private async local<T>(call: Call<T>, remaining: number): Promise<{ value: T } | undefined> {
    let submitted;
    try {
      submitted = await this.options.service.submit(call.event, call.validateOnly === true);
    } catch (err) {
      if (err instanceof ProtocolError && err.name === 'NOT_CONTROLLER') return undefined;
      throw err;
    }
    const { result } = submitted;
    if (result.error !== undefined) {
      if (result.error.error === 'NOT_CONTROLLER') return undefined;
      throw new ProtocolError(result.error.error, result.error.message);
    }
    if (call.validateOnly !== true) await this.options.sync.waitForVersion(result.image, remaining);
    return { value: call.local(result) };
  }

  /**
   * One item of a forwarded answer: NOT_CONTROLLER is a retry, any other
   * error ends the call (FinalError), success waits for `shows`.
   */
  private read(
    controller: BrokerEndpoint,
    item: { errorCode: number; errorMessage?: string | null } | undefined,
    shows: (image: MetadataImage) => boolean,
  ): Forwarded<undefined> {
    if (item === undefined)
      throw new FinalError(new ProtocolError('UNKNOWN_SERVER_ERROR', 'an empty answer'));
    if (item.errorCode === ErrorCode.NOT_CONTROLLER)
      return { retry: `broker ${controller.id} answered NOT_CONTROLLER` };
    if (item.errorCode !== ErrorCode.NONE)
      throw new FinalError(ProtocolError.fromCode(item.errorCode, item.errorMessage ?? undefined));
    return { shows, value: () => undefined };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancelTimer = this.options.scheduler.schedule(ms, () => {
        this.cancels.delete(cancel);
        resolve();
      });
      const cancel = () => {
        cancelTimer();
        this.cancels.delete(cancel);
        resolve();
      };
      this.cancels.add(cancel);
    });
  }
  // #endregion run
}

/** A refusal from the controller: not retried. */
class FinalError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
