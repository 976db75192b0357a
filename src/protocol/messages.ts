/**
 * The envelope of every request and response, and the four codecs over it.
 *
 *   request  = { api: string, version: int16 ≥ 0, correlationId: int32, clientId?: string, body: map }
 *   response = { correlationId: int32, body: map }                       on success
 *            | { correlationId: int32, error: { code, name, message, retriable } }
 *
 * Decoding never throws: it returns the message or a `ProtocolError`. A
 * request whose correlation id cannot be read cannot be answered (`fatal`:
 * close the connection); any other bad request is answered with an error
 * response and the connection stays open, because frame boundaries do not
 * depend on what is inside a frame.
 */
import { type ApiName, type RequestBody, type ResponseBody, apiSpec } from './apis/index.js';
import {
  FieldError,
  bool,
  field,
  int16,
  int32,
  isPlainObject,
  nonNegativeInt16,
  optional,
  string,
  struct,
} from './check.js';
import type { ErrorName } from './error-codes.js';
import { ProtocolError } from './errors.js';
import { pack, packFrame, packFrameChunks, unpack } from './msgpack.js';

export interface RequestOf<A extends ApiName> {
  api: A;
  version: number;
  correlationId: number;
  clientId?: string;
  body: RequestBody<A>;
}
/** Any request: narrow on `api` to get its body's type. */
export type Request = { [A in ApiName]: RequestOf<A> }[ApiName];

export type ResponseOf<A extends ApiName> =
  | { correlationId: number; body: ResponseBody<A>; error?: never }
  | { correlationId: number; error: ProtocolError; body?: never };
export type Response = ResponseOf<ApiName>;

export type DecodedRequest =
  | { ok: true; request: Request }
  /** Answer `{ correlationId, error }`; the connection stays usable. */
  | { ok: false; fatal: false; correlationId: number; error: ProtocolError }
  /** No response can be addressed: close the connection. */
  | { ok: false; fatal: true; error: ProtocolError };

export type DecodedResponse<A extends ApiName> =
  | { ok: true; response: ResponseOf<A> }
  /** The broker broke the protocol: fail the request and drop the connection. */
  | { ok: false; correlationId: number | undefined; error: ProtocolError };

const wireError = struct({ code: int16, name: string, message: string, retriable: bool });

// #region encode
/** The msgpack body of a request (frame it with `encodeFrame`, or use `encodeRequestFrame`). */
export function encodeRequest(request: Request): Buffer {
  return pack(requestEnvelope(request));
}

/** A request's whole frame, written in one pass. */
export function encodeRequestFrame(request: Request): Buffer {
  return packFrame(requestEnvelope(request));
}

/**
 * A request's whole frame as buffers to write in order (corked, or writev):
 * their concatenation is `encodeRequestFrame(request)`, but record batches
 * are not copied into it.
 */
export function encodeRequestFrameChunks(request: Request): Buffer[] {
  return packFrameChunks(requestEnvelope(request));
}

export function encodeResponse(response: Response): Buffer {
  return pack(responseEnvelope(response));
}

/** A response's whole frame, written in one pass (a fetch's batches are copied once). */
export function encodeResponseFrame(response: Response): Buffer {
  return packFrame(responseEnvelope(response));
}

/** A response's whole frame as buffers (see `encodeRequestFrameChunks`): a fetch's batches are not copied. */
export function encodeResponseFrameChunks(response: Response): Buffer[] {
  return packFrameChunks(responseEnvelope(response));
}

// Fixed key order, so the same request always gives the same bytes.
function requestEnvelope(r: Request) {
  const { api, version, correlationId, clientId, body } = r;
  return { api, version, correlationId, clientId, body };
}

function responseEnvelope(r: Response) {
  return r.error === undefined
    ? { correlationId: r.correlationId, body: r.body }
    : { correlationId: r.correlationId, error: r.error.toWire() };
}
// #endregion encode

// #region decode
/** Decodes and checks one request frame body: the envelope, the API and version, then the body. */
export function decodeRequest(frameBody: Uint8Array): DecodedRequest {
  let value: unknown;
  try {
    value = unpack(frameBody);
  } catch (cause) {
    return fatal('the frame body is not exactly one msgpack value', cause);
  }
  if (!isPlainObject(value)) return fatal('a request must be a msgpack map');
  let id: number;
  try {
    id = int32(field(value, 'correlationId'), 'correlationId');
  } catch (cause) {
    return fatal(`cannot be answered: ${String((cause as Error).message)}`, cause);
  }
  const refuse = (name: ErrorName, message: string, cause?: unknown): DecodedRequest => ({
    ok: false,
    fatal: false,
    correlationId: id,
    error: new ProtocolError(name, message, { cause }),
  });
  let api = 'request';
  try {
    api = string(field(value, 'api'), 'api');
    const version = nonNegativeInt16(field(value, 'version'), 'version');
    const clientId = optional(string)(field(value, 'clientId'), 'clientId');
    const spec = apiSpec(api);
    if (spec === undefined) return refuse('UNSUPPORTED_VERSION', `unknown api '${api}'`);
    if (version < spec.minVersion || version > spec.maxVersion) {
      const range = `${spec.minVersion} to ${spec.maxVersion}`;
      return refuse('UNSUPPORTED_VERSION', `${api} version ${version} is not supported (${range})`);
    }
    const body = spec.request(field(value, 'body'), 'body');
    const request = { api, version, correlationId: id, clientId, body } as Request;
    if (clientId === undefined) delete request.clientId;
    return { ok: true, request };
  } catch (error) {
    if (error instanceof FieldError) return refuse(error.errorName, `${api}: ${error.message}`);
    return refuse('UNKNOWN_SERVER_ERROR', `${api}: the request could not be checked`, error);
  }
}

/**
 * Decodes a response to a request of `api` (the client knows which request it
 * is waiting for: responses come in request order). A `ProtocolError` the
 * broker sent is a good response (`ok: true`, `response.error`); a malformed
 * response is `ok: false`.
 */
export function decodeResponse<A extends ApiName>(
  frameBody: Uint8Array,
  api: A,
): DecodedResponse<A> {
  let value: unknown;
  try {
    value = unpack(frameBody);
  } catch (cause) {
    return malformed(undefined, 'the frame body is not exactly one msgpack value', cause);
  }
  if (!isPlainObject(value)) return malformed(undefined, 'a response must be a msgpack map');
  let correlationId: number | undefined;
  try {
    correlationId = int32(field(value, 'correlationId'), 'correlationId');
    const hasBody = field(value, 'body') !== undefined;
    const hasError = field(value, 'error') !== undefined;
    if (hasBody === hasError) {
      return malformed(correlationId, 'a response must carry exactly one of body and error');
    }
    if (hasError) {
      const error = ProtocolError.fromWire(wireError(field(value, 'error'), 'error'));
      return { ok: true, response: { correlationId, error } };
    }
    const spec = apiSpec(api);
    if (spec === undefined) return malformed(correlationId, `unknown api '${api}'`);
    const body = spec.response(field(value, 'body'), 'body') as ResponseBody<A>;
    return { ok: true, response: { correlationId, body } };
  } catch (error) {
    const message =
      error instanceof FieldError ? error.message : 'the response could not be checked';
    return malformed(correlationId, `${api} response: ${message}`, error);
  }
}
// #endregion decode

function fatal(message: string, cause?: unknown): DecodedRequest {
  return {
    ok: false,
    fatal: true,
    error: new ProtocolError('INVALID_REQUEST', message, { cause }),
  };
}

function malformed(correlationId: number | undefined, message: string, cause?: unknown) {
  const error = new ProtocolError('UNKNOWN_SERVER_ERROR', `malformed response: ${message}`, {
    cause,
  });
  return { ok: false as const, correlationId, error };
}
