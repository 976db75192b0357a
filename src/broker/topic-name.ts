/**
 * Kafka's rules for a topic name: 1 to 249 characters from [a-zA-Z0-9._-],
 * and not '.' or '..' (a partition's directory is `<topic>-<n>`, so the name
 * must be a safe path component). The limit leaves room for the `-<n>` suffix
 * and Kafka's deletion suffix within a 255-byte file name.
 */
import { ProtocolError } from '../protocol/index.js';

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Why `name` is not a legal topic name, or undefined when it is. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a topic name cannot be empty';
  if (name === '.' || name === '..') return `a topic name cannot be '.' or '..'`;
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `a topic name can be at most ${MAX_TOPIC_NAME_LENGTH} characters, not ${name.length}`;
  if (!LEGAL.test(name))
    return `topic name '${name}' is illegal: only ASCII letters, digits, '.', '_' and '-' are allowed`;
  return undefined;
}

/** Throws INVALID_TOPIC_EXCEPTION (17) for an illegal name. */
export function checkTopicName(name: string): void {
  const problem = topicNameProblem(name);
  if (problem !== undefined) throw new ProtocolError('INVALID_TOPIC_EXCEPTION', problem);
}
