/** What the cluster tests share: free ports for a --cluster list, and polling until a probe answers. */
export { freePorts } from '../../src/cluster/local-cluster.js';

/** Polls `probe` every 20 ms until it returns a value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
