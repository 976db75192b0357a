/**
 * Nested `cork`/`uncork` for a connection whose socket can change between
 * the two (a drop, a reconnect): the uncork goes to the socket the first cork
 * held, never to a newer one. It stands alone because the count and the
 * corked socket are one piece of state with one rule, unrelated to requests.
 *
 * Invariant: `corked` is set only while `depth` > 0.
 */
import type { Socket } from 'node:net';

export class NestedCork {
  /** Open `cork` calls, and the socket the first of them corked (none if there was none). */
  private depth = 0;
  private corked: Socket | undefined;

  cork(socket: Socket | undefined): void {
    this.depth += 1;
    if (this.depth > 1) return;
    this.corked = socket;
    this.corked?.cork();
  }

  uncork(): void {
    if (this.depth === 0) return;
    this.depth -= 1;
    if (this.depth > 0) return;
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  }
}
