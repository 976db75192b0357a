/**
 * The client's side of ApiVersions: what a connection learns from the
 * broker's answer, and the version each request is then sent at. As in
 * Kafka's NetworkClient, a connection sends ApiVersions first and sends
 * nothing else until the answer is in; the broker's ranges are kept per
 * connection (a reconnect may reach an upgraded broker and asks again).
 *
 * A request is sent at the highest version both sides speak; an API the
 * broker does not speak at any version this client speaks fails with
 * CLIENT_UNSUPPORTED_VERSION (Kafka's UnsupportedVersionException), and the
 * connection stays up for the other requests.
 */
import {
  APIS,
  type ApiName,
  ErrorCode,
  ProtocolError,
  type ResponseBody,
} from '../protocol/index.js';
import { ClientError, ClientErrorCode } from './errors.js';

/** An API's version range, as ApiVersions lists it. */
export interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

/** The broker's ranges by API name, from one ApiVersions answer. */
export type BrokerApiVersions = ReadonlyMap<string, VersionRange>;

/** The version of ApiVersions a new connection asks with first (the newest this client speaks). */
export const HANDSHAKE_VERSION = APIS.ApiVersions.maxVersion;

/**
 * What an ApiVersions answer means for the connection: the broker's ranges,
 * a version of ApiVersions to ask again with (it refused ours), or a failure.
 */
export type HandshakeOutcome =
  | { kind: 'ready'; versions: BrokerApiVersions }
  | { kind: 'retry'; version: number }
  | { kind: 'failed'; error: Error };

// #region handshake
/**
 * Reads the answer to an ApiVersions sent at `sent`: a body, or the error
 * the broker answered with. A broker that does not speak our version of
 * ApiVersions (UNSUPPORTED_VERSION, as an error response or as the body's
 * errorCode) is asked once more, at the highest version it lists for
 * ApiVersions, else at version 0, which every broker speaks (Kafka's clients
 * do the same). A second refusal, or any other error, fails the handshake.
 */
export function readHandshake(
  answer: { body: ResponseBody<'ApiVersions'> } | { error: unknown },
  sent: number,
  retried: boolean,
  address: string,
): HandshakeOutcome {
  const refused =
    'error' in answer
      ? answer.error instanceof ProtocolError && answer.error.name === 'UNSUPPORTED_VERSION'
      : answer.body.errorCode === ErrorCode.UNSUPPORTED_VERSION;
  if (refused) {
    const listed =
      'body' in answer ? answer.body.apis.find((a) => a.api === 'ApiVersions') : undefined;
    if (!retried) return { kind: 'retry', version: Math.min(listed?.maxVersion ?? 0, sent) };
  }
  if ('error' in answer) {
    const cause = answer.error;
    const why = cause instanceof Error ? cause.message : String(cause);
    return {
      kind: 'failed',
      error: new ProtocolError(
        cause instanceof ProtocolError ? cause : 'UNKNOWN_SERVER_ERROR',
        `the ApiVersions handshake (version ${sent}) with broker ${address} failed: ${why}`,
        { cause },
      ),
    };
  }
  if (answer.body.errorCode !== ErrorCode.NONE)
    return {
      kind: 'failed',
      error: ProtocolError.fromCode(
        answer.body.errorCode,
        `broker ${address} answered ApiVersions (version ${sent}) with error code ${answer.body.errorCode}`,
      ),
    };
  const versions = new Map<string, VersionRange>();
  for (const { api, minVersion, maxVersion } of answer.body.apis)
    versions.set(api, { minVersion, maxVersion });
  return { kind: 'ready', versions };
}
// #endregion handshake

// #region negotiate
/** The highest version of `api` both this client and the broker speak, or -1 when there is none. */
export function negotiatedVersion(api: ApiName, broker: BrokerApiVersions): number {
  const ours = APIS[api];
  const theirs = broker.get(api);
  if (theirs === undefined) return -1;
  const high = Math.min(ours.maxVersion, theirs.maxVersion);
  const low = Math.max(ours.minVersion, theirs.minVersion);
  return high >= low ? high : -1;
}

/** CLIENT_UNSUPPORTED_VERSION for a request the broker cannot take, naming the API and the broker. */
export function unsupportedApi(
  api: ApiName,
  broker: BrokerApiVersions,
  address: string,
): ClientError {
  const ours = APIS[api];
  const theirs = broker.get(api);
  const speaks =
    theirs === undefined
      ? 'does not speak it at all'
      : `speaks versions ${theirs.minVersion}–${theirs.maxVersion}`;
  return new ClientError(
    ClientErrorCode.UNSUPPORTED_VERSION,
    `broker ${address} cannot take a ${api} request: this client speaks ${api} versions ` +
      `${ours.minVersion}–${ours.maxVersion}, the broker ${speaks}`,
  );
}
// #endregion negotiate
