/**
 * `npm run bench -- produce`: see client.ts. Produce and consume run the same
 * phases (the consumer needs the records produced first); only the heading differs.
 */
import { runClientBench } from './client.js';

export function run(argv: string[]): Promise<void> {
  return runClientBench('produce', argv);
}
