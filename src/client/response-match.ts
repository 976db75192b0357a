/**
 * A connection's one rule for reading responses, apart from its socket: the
 * broker answers strictly in request order, so each response frame belongs to
 * the request at the head of the in-flight queue, or the stream is out of
 * step. It stands alone because it is pure (a frame and a queue entry in, a
 * verdict out): parsers never see a socket, and the rule reads in one place.
 */
import { type ApiName, type DecodedResponse, decodeResponse } from '../protocol/index.js';
import type { InFlight } from './in-flight.js';

type ResponseTo = Extract<DecodedResponse<ApiName>, { ok: true }>['response'];

export type ResponseMatch =
  | { ok: true; response: ResponseTo }
  /** Out of step: the connection must close (`cause` is the decoding error, if any). */
  | { ok: false; why: string; cause?: unknown };

/** Decodes `frame` as the response to `head`, the oldest request in flight (if any). */
export function matchResponse(head: InFlight | undefined, frame: Buffer): ResponseMatch {
  if (head === undefined || !head.written)
    return { ok: false, why: 'a response arrived with no request in flight' };
  const decoded = decodeResponse(frame, head.api);
  if (!decoded.ok) return { ok: false, why: decoded.error.message, cause: decoded.error };
  const { response } = decoded;
  if (response.correlationId !== head.correlationId) {
    return {
      ok: false,
      why: `expected the response to correlation id ${head.correlationId} (${head.api}), got ${response.correlationId}`,
    };
  }
  return { ok: true, response };
}

/** Settles `entry` with its response, unless a timeout or a close settled it first. */
export function settle(entry: InFlight, response: ResponseTo): void {
  if (entry.done) return;
  entry.done = true;
  if (entry.noResponse) entry.resolve(undefined);
  else if (response.error !== undefined) entry.reject(response.error);
  else entry.resolve(response.body);
}
