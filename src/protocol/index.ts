/**
 * samsa's native protocol: frames, the request/response envelope, one module
 * per API, and Kafka's error codes. Shared by the broker and the client, so
 * each codec exists once. No sockets here: everything works on bytes.
 * The wire format is written down in docs/protocol.md.
 */
export {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameError,
  FrameErrorCode,
  LENGTH_PREFIX_WIDTH,
  MAX_FRAME_LENGTH,
  encodeFrame,
  frameHeader,
} from './frame.js';
export type { FrameBatch, FrameDecoderOptions } from './frame.js';
export {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeRequestFrame,
  encodeRequestFrameChunks,
  encodeResponse,
  encodeResponseFrame,
  encodeResponseFrameChunks,
} from './messages.js';
export type {
  DecodedRequest,
  DecodedResponse,
  Request,
  RequestOf,
  Response,
  ResponseOf,
} from './messages.js';
export { APIS, ConfigResourceType, OffsetSpec, apiSpec, supportedApis } from './apis/index.js';
export type {
  AlterConfigsRequest,
  AlterConfigsResponse,
  ApiName,
  ApiSpec,
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  FetchRequest,
  FetchResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  RequestBody,
  ResponseBody,
  WireMetadataImage,
} from './apis/index.js';
export { ERRORS, ERROR_WHEN, ErrorCode, errorName } from './error-codes.js';
export type { ErrorName } from './error-codes.js';
export { ProtocolError } from './errors.js';
export { GroupState } from './group-state.js';
export type { WireError } from './errors.js';
export { LOG_ERROR_TO_PROTOCOL, toProtocolError } from './log-errors.js';
