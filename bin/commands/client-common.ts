/**
 * What the client commands (topics, produce, consume, offsets) share: the
 * `--broker` option (default `SAMSA_BROKER`, else 127.0.0.1:9092), number
 * parsing, and turning a client error into the command's exit status.
 */
import { type Command, Option } from 'commander';
import { Admin, DEFAULT_BROKER, parseBrokerAddress } from '../../src/client/index.js';
import { ProtocolError } from '../../src/protocol/index.js';
import { FailedError, UsageError } from '../command.js';

/** Adds `--broker host:port` to a command. */
export function brokerOption(command: Command): Command {
  return command.addOption(
    new Option('--broker <host:port>', 'the broker to connect to')
      .env('SAMSA_BROKER')
      .default(DEFAULT_BROKER),
  );
}

/** The broker address from the option, checked (a bad one is a usage error). */
export function brokerAddress(text: string): string {
  try {
    parseBrokerAddress(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return text;
}

/** A whole number from an option, at least `min`; UsageError naming the option otherwise. */
export function integer(text: string | undefined, option: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${option} must be an integer ≥ ${min}, got '${text}'`);
  return n;
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `k=v` pairs into an object; UsageError for a pair without `=`. */
export function configPairs(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    if (eq < 0 || key === '')
      throw new UsageError(
        `--config wants key=value (for example retention.ms=60000), got '${pair}'`,
      );
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Runs a client command: broker and network errors become FailedError (exit 1) with the broker's words. */
export async function clientAction(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ProtocolError)
      throw new FailedError(`${err.name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Runs `run` with an Admin on `--broker` (quick reconnects: a CLI should fail fast), then closes it. */
export async function withAdmin(
  options: { broker: string },
  run: (admin: Admin) => Promise<void>,
): Promise<void> {
  const admin = new Admin({ brokers: brokerAddress(options.broker), reconnectBackoffMaxMs: 200 });
  try {
    await clientAction(() => run(admin));
  } finally {
    await admin.close();
  }
}
