/**
 * Broker addresses as people write them: `host:port`, `[::1]:9092`, or a bare
 * host (port 9092, Kafka's). `SAMSA_BROKER` and `--broker` use this form.
 */

export const DEFAULT_PORT = 9092;
export const DEFAULT_BROKER = `127.0.0.1:${DEFAULT_PORT}`;

export interface BrokerAddress {
  host: string;
  port: number;
}

/** Parses `host:port`; throws TypeError naming the bad address. */
export function parseBrokerAddress(text: string): BrokerAddress {
  if (typeof text !== 'string' || text.trim() === '')
    throw new TypeError('a broker address must be a non-empty string like 127.0.0.1:9092');
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else {
    const colon = trimmed.lastIndexOf(':');
    if (colon >= 0 && trimmed.indexOf(':') !== colon)
      throw new TypeError(`an IPv6 broker address needs brackets: [${trimmed}]:9092`);
    host = colon < 0 ? trimmed : trimmed.slice(0, colon);
    portText = colon < 0 ? undefined : trimmed.slice(colon + 1);
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`'${text}' is not a broker address like 127.0.0.1:9092`);
  return { host, port };
}

/** `host:port`, with brackets around an IPv6 host (Kafka's `Utils.formatAddress`). */
export function formatAddress(address: BrokerAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
