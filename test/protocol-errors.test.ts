import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  CorruptBatchError,
  InvalidConfigError,
  InvalidRecordError,
  LogClosedError,
  LogErrorCode,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  UnsupportedCompressionError,
} from '../src/log/index.js';
import {
  ERRORS,
  ERROR_WHEN,
  ErrorCode,
  LOG_ERROR_TO_PROTOCOL,
  ProtocolError,
  errorName,
  toProtocolError,
} from '../src/protocol/index.js';

// Read off Kafka's Errors.java (code, name) and its exception classes (retriable: extends RetriableException).
const KAFKA: [number, string, boolean][] = [
  [-1, 'UNKNOWN_SERVER_ERROR', false],
  [0, 'NONE', false],
  [1, 'OFFSET_OUT_OF_RANGE', false],
  [2, 'CORRUPT_MESSAGE', true],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true],
  [4, 'INVALID_FETCH_SIZE', false],
  [5, 'LEADER_NOT_AVAILABLE', true],
  [6, 'NOT_LEADER_OR_FOLLOWER', true],
  [7, 'REQUEST_TIMED_OUT', true],
  [10, 'MESSAGE_TOO_LARGE', false],
  [11, 'STALE_CONTROLLER_EPOCH', false],
  [12, 'OFFSET_METADATA_TOO_LARGE', false],
  [13, 'NETWORK_EXCEPTION', true],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true],
  [15, 'COORDINATOR_NOT_AVAILABLE', true],
  [16, 'NOT_COORDINATOR', true],
  [17, 'INVALID_TOPIC_EXCEPTION', false],
  [18, 'RECORD_LIST_TOO_LARGE', false],
  [19, 'NOT_ENOUGH_REPLICAS', true],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true],
  [21, 'INVALID_REQUIRED_ACKS', false],
  [22, 'ILLEGAL_GENERATION', false],
  [23, 'INCONSISTENT_GROUP_PROTOCOL', false],
  [24, 'INVALID_GROUP_ID', false],
  [25, 'UNKNOWN_MEMBER_ID', false],
  [26, 'INVALID_SESSION_TIMEOUT', false],
  [27, 'REBALANCE_IN_PROGRESS', false],
  [28, 'INVALID_COMMIT_OFFSET_SIZE', false],
  [35, 'UNSUPPORTED_VERSION', false],
  [36, 'TOPIC_ALREADY_EXISTS', false],
  [37, 'INVALID_PARTITIONS', false],
  [38, 'INVALID_REPLICATION_FACTOR', false],
  [40, 'INVALID_CONFIG', false],
  [41, 'NOT_CONTROLLER', true],
  [42, 'INVALID_REQUEST', false],
  [44, 'POLICY_VIOLATION', false],
  [56, 'KAFKA_STORAGE_ERROR', true],
  [68, 'NON_EMPTY_GROUP', false],
  [69, 'GROUP_ID_NOT_FOUND', false],
  [74, 'FENCED_LEADER_EPOCH', true],
  [75, 'UNKNOWN_LEADER_EPOCH', true],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE', false],
  [79, 'MEMBER_ID_REQUIRED', false],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', true],
  [81, 'GROUP_MAX_SIZE_REACHED', false],
  [84, 'ELECTION_NOT_NEEDED', true],
  [87, 'INVALID_RECORD', false],
  [95, 'INVALID_UPDATE_VERSION', false],
  [107, 'INELIGIBLE_REPLICA', false],
];

describe('the error table', () => {
  it("has Kafka's codes, names and retriable flags, and nothing else", () => {
    const table = Object.entries(ERRORS).map(([name, e]) => [e.code, name, e.retriable]);
    expect(table).toEqual(KAFKA);
    for (const [code, name] of KAFKA) {
      expect(errorName(code)).toBe(name);
      expect(ErrorCode[name as keyof typeof ErrorCode]).toBe(code);
      expect(ERROR_WHEN[name as keyof typeof ERROR_WHEN].length).toBeGreaterThan(0);
    }
  });

  it('is the table docs/protocol.md shows', () => {
    const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
    for (const [code, name, retriable] of KAFKA) {
      const when = ERROR_WHEN[name as keyof typeof ERROR_WHEN];
      expect(doc).toContain(`| ${code} | \`${name}\` | ${retriable ? 'yes' : 'no'} | ${when} |`);
    }
  });
});

describe('ProtocolError', () => {
  it('takes its code and retriable flag from the table, and its name is the Kafka name', () => {
    const e = new ProtocolError('NOT_LEADER_OR_FOLLOWER', 'moved', { cause: 'why' });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({
      code: 6,
      name: 'NOT_LEADER_OR_FOLLOWER',
      retriable: true,
      message: 'moved',
      cause: 'why',
    });
    expect(String(e)).toBe('NOT_LEADER_OR_FOLLOWER: moved');
    expect(new ProtocolError('INVALID_REQUEST').message).toBe(ERROR_WHEN.INVALID_REQUEST);
  });

  it('turns a per-partition error code into an error; an unknown code into UNKNOWN_SERVER_ERROR', () => {
    expect(ProtocolError.fromCode(1)).toMatchObject({ code: 1, name: 'OFFSET_OUT_OF_RANGE' });
    const unknown = ProtocolError.fromCode(999, 'from the future');
    expect(unknown).toMatchObject({ code: -1, name: 'UNKNOWN_SERVER_ERROR', retriable: false });
    expect(unknown.message).toContain('999');
  });

  it('round-trips through the wire form, trusting codes it does not know', () => {
    const wire = { code: 999, name: 'SOMETHING_NEW', message: 'later', retriable: true };
    expect(ProtocolError.fromWire(wire).toWire()).toEqual(wire);
  });
});

describe('errors of the log, as the protocol answers them', () => {
  it('maps every log error code', () => {
    expect(Object.keys(LOG_ERROR_TO_PROTOCOL).sort()).toEqual(Object.values(LogErrorCode).sort());
    const cases: [Error, number][] = [
      [new OffsetOutOfRangeError(9, 0, 5), 1],
      [new CorruptBatchError('bad crc'), 2],
      [new RecordTooLargeError(2, 1), 10],
      [new InvalidRecordError('no key'), 87],
      [new InvalidConfigError('no such key'), 40],
      [new UnsupportedCompressionError(4), 76],
      [new LogClosedError('/tmp/x'), 3],
    ];
    for (const [error, code] of cases) {
      const mapped = toProtocolError(error);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toBe(error.message);
      expect(mapped.cause).toBe(error);
    }
  });

  it('passes a ProtocolError through and hides anything else behind UNKNOWN_SERVER_ERROR', () => {
    const p = new ProtocolError('NOT_CONTROLLER');
    expect(toProtocolError(p)).toBe(p);
    const secret = new Error('ENOENT /var/lib/samsa/secret');
    const mapped = toProtocolError(secret);
    expect(mapped).toMatchObject({ code: -1, retriable: false, cause: secret });
    expect(mapped.message).not.toContain('secret');
  });
});
