/**
 * Chapter 5, "Events: a basis for collaboration". Run it with
 * `npm run book -- 05-event-collaboration` and read 05-event-collaboration.md
 * beside it. Three services, each a consumer group: orders → payments →
 * shipments. Events, offsets and counts printed are what the services saw.
 */
import { jsonSerde, stringSerde } from '../src/index.js';
import { withBroker } from './lib/client.js';
import { settled, until } from './lib/members.js';
import { type Event, at, startService } from './lib/services.js';
import * as w from './lib/walkthrough.js';

const PARTITIONS = 3;

/** `payments 0,1,2 · shipments 0,1,2`: partitions grouped by topic. */
const byTopic = (tps: readonly { topic: string; partition: number }[]): string =>
  [...new Set(tps.map((tp) => tp.topic))]
    .map(
      (t) =>
        `${t} ${tps
          .filter((tp) => tp.topic === t)
          .map((tp) => tp.partition)
          .join(',')}`,
    )
    .join(' · ');
const ORDERS = ['alice', 'bob', 'carol', 'dave'];

interface Order {
  orderId: string;
  customer: string;
  items: string[];
  total: number;
  address: string;
}

await w.runWalkthrough('Chapter 5 · Events: a basis for collaboration', () =>
  w.withTempDir('05-event-collaboration', (dir) =>
    withBroker(dir, async (b) => {
      await b.admin.createTopics(
        ['orders', 'payments', 'shipments'].map((name) => ({ name, numPartitions: PARTITIONS })),
      );
      const producer = b.producer({
        keySerializer: stringSerde.serialize,
        valueSerializer: jsonSerde.serialize,
      });
      const emit = (topic: string, key: string, event: Record<string, unknown>) =>
        producer.send(topic, [{ key, value: event }]);

      // #region order-service
      // The order service: a command in (placeOrder), an event out (OrderCreated, the whole
      // order: event-carried state transfer), a query (getOrder) for whoever asks, and its
      // own view of each order's progress, from the events of the others.
      const orderDb = new Map<string, Order>();
      const timeline = new Map<string, string[]>();
      let queryEndpointUp = true;
      let queries = 0;
      const placeOrder = async (customer: string, n: number): Promise<Order> => {
        const order: Order = {
          orderId: `order-${n}`,
          customer,
          items: [`book-${n}`, `pen-${n}`],
          total: 10 * n + 5,
          address: `${n} ${customer[0]!.toUpperCase()}${customer.slice(1)} Street`,
        };
        orderDb.set(order.orderId, order);
        const events = ['OrderCreated'];
        timeline.set(order.orderId, events);
        const [placed] = await emit('orders', order.orderId, { type: 'OrderCreated', ...order });
        events[0] = `OrderCreated (orders-${placed!.partition}@${placed!.offset})`;
        return order;
      };
      const getOrder = async (orderId: string): Promise<Order> => {
        queries++;
        if (!queryEndpointUp) throw new Error(`getOrder(${orderId}): the order service is down`);
        return orderDb.get(orderId)!;
      };
      const orderService = startService(b, 'order-service', ['payments', 'shipments'], (e) => {
        timeline.get(e.key!)?.push(`${e.value.type} (${at(e)})`);
      });
      // #endregion order-service

      // #region payment-service
      // Reacts to OrderCreated: everything it needs (the total) is in the event. Emits a
      // notification: PaymentReceived says what happened and to which order, nothing more.
      const charged: string[] = [];
      const paymentService = startService(
        b,
        'payment-service',
        ['orders'],
        async (e) => {
          if (e.value.type !== 'OrderCreated') return;
          charged.push(e.key!);
          await emit('payments', e.key!, {
            type: 'PaymentReceived',
            orderId: e.key,
            paymentId: `pay-${charged.length}`,
          });
        },
        2,
      );
      // #endregion payment-service

      // #region shipment-services
      // Two ways to learn the address a PaymentReceived notification does not carry.
      // By query: ask the order service, at the moment of shipping.
      const labelsByQuery: string[] = [];
      const shipmentByQuery = startService(b, 'shipment-by-query', ['payments'], async (e) => {
        const order = await getOrder(e.key!);
        labelsByQuery.push(`${e.key} → ${order.address}`);
      });
      // By event-carried state: keep a local copy of the orders from OrderCreated events.
      // Two topics are read side by side, so a payment may be read before its order: it
      // waits for the order's event (a join of two streams, in miniature).
      const addresses = new Map<string, string>();
      const paidAwaitingOrder = new Set<string>();
      const shipped: string[] = [];
      const ship = async (orderId: string) => {
        shipped.push(orderId);
        const address = addresses.get(orderId)!;
        await emit('shipments', orderId, { type: 'OrderShipped', orderId, address });
      };
      const shipmentService = startService(
        b,
        'shipment-service',
        ['orders', 'payments'],
        async (e) => {
          const orderId = e.key!;
          if (e.value.type === 'OrderCreated') {
            addresses.set(orderId, e.value.address as string);
            if (paidAwaitingOrder.delete(orderId)) await ship(orderId);
          } else if (e.value.type === 'PaymentReceived') {
            if (addresses.has(orderId)) await ship(orderId);
            else paidAwaitingOrder.add(orderId);
          }
        },
      );
      // #endregion shipment-services

      const services = [orderService, paymentService, shipmentByQuery, shipmentService];
      try {
        // #region collaborate
        w.heading('1. Four consumer groups, one per service');
        for (const s of services) await settled(b.admin, s.group, [...s.handled.keys()], 20_000);
        const groups = await b.admin.describeGroups(services.map((s) => s.group));
        w.table(
          ['group (service)', 'state', 'member', 'partitions it reads'],
          groups.flatMap((g) =>
            g.members
              .sort((x, y) => x.clientId.localeCompare(y.clientId))
              .map((m) => [g.groupId, g.state, m.clientId, byTopic(m.assignment)]),
          ),
        );
        w.say(
          'Each service is its own group, so each gets every event of the topics it subscribes to; inside payment-service the two instances share the partitions of orders.',
        );

        w.heading('2. Order → payment → shipment, by events alone');
        const placed: Order[] = [];
        for (const [i, customer] of ORDERS.entries()) {
          placed.push(await placeOrder(customer, i + 1));
        }
        w.say(
          `The order service accepted ${placed.length} placeOrder commands (a command: a request to do something, which it may refuse) and emitted one OrderCreated event each (an event: a fact, for whoever cares). The payment and shipment services have no API to call: they learn of orders from the log.`,
        );
        await until('every order shipped', () =>
          placed.every((o) => timeline.get(o.orderId)!.length === 3),
        );
        w.say("The order service's view of each order, built from the others' events:");
        w.table(
          ['order', 'what the order service saw, in order'],
          placed.map((o) => [o.orderId, timeline.get(o.orderId)!.join(' → ')]),
        );
        w.check(
          placed.every((o) =>
            /^OrderCreated .* → PaymentReceived .* → OrderShipped /.test(
              timeline.get(o.orderId)!.join(' → '),
            ),
          ),
          'every order went created → paid → shipped, each step a reaction to the previous event',
        );
        const perInstance = [...paymentService.handled].map(([m, es]) => [
          m,
          es.map((e) => e.key).join(' '),
        ]);
        w.say('Which payment-service instance charged which order:');
        w.table(['instance', 'orders it charged'], perInstance);
        w.check(
          charged.length === placed.length && new Set(charged).size === placed.length,
          `each order was charged exactly once, by one of the two instances (${charged.length} charges)`,
        );
        // #endregion collaborate

        // #region two-kinds
        w.heading('3. Notification vs event-carried state transfer');
        const sample = (s: typeof shipmentService, type: string): Event =>
          [...s.handled.values()].flat().find((e) => e.value.type === type)!;
        const createdEvent = sample(shipmentService, 'OrderCreated');
        const paidEvent = sample(shipmentService, 'PaymentReceived');
        w.say('An OrderCreated event carries the whole order (state transfer):');
        w.show(JSON.stringify(createdEvent.value));
        w.say('A PaymentReceived event only says what happened (a notification):');
        w.show(JSON.stringify(paidEvent.value));
        w.say(
          `To ship, the address is needed. shipment-by-query asked the order service each time: ${queries} getOrder queries for ${labelsByQuery.length} labels. shipment-service kept the addresses from OrderCreated events in its own table (${addresses.size} entries) and asked nothing.`,
        );
        w.check(
          queries === placed.length && shipped.length === placed.length,
          'the notification-driven service needed one query per order; the state-carrying one none',
        );

        queryEndpointUp = false;
        const queriesBefore = queries;
        const late = [await placeOrder('erin', 5), await placeOrder('frank', 6)];
        await until('the late orders shipped', () =>
          late.every((o) => shipped.includes(o.orderId)),
        );
        await until(
          'the query-based service to give up on them',
          () => shipmentByQuery.failures.length >= 2,
        );
        w.say(
          `Now the order service's query endpoint is down (a deploy) and ${late.length} more orders come in. shipment-service shipped them: ${late.map((o) => shipped.includes(o.orderId)).every(Boolean) ? 'yes' : 'no'}. shipment-by-query tried ${queries - queriesBefore} queries and failed:`,
        );
        w.show(shipmentByQuery.failures);
        w.check(
          late.every((o) => shipped.includes(o.orderId)) &&
            late.every((o) => !labelsByQuery.some((l) => l.startsWith(`${o.orderId} `))),
          'with the order service down, only the service holding its own copy of the data could go on',
        );
        // #endregion two-kinds

        // #region lag
        w.heading('4. Each group committed what it handled');
        for (const s of services) await s.stop();
        const rows: (string | number)[][] = [];
        for (const s of services) {
          const committed = await b.admin.listGroupOffsets(s.group);
          for (const topic of new Set(committed.map((c) => c.topic))) {
            const mine = committed.filter((c) => c.topic === topic);
            const ends = await b.admin.listOffsets(topic, 'latest');
            const lag = mine.reduce((n, c) => n + ends[c.partition]!.offset - c.offset, 0);
            rows.push([
              s.group,
              topic,
              mine.map((c) => c.offset).join(' '),
              ends.map((e) => e.offset).join(' '),
              lag,
            ]);
          }
        }
        w.say('Per group and topic, partitions 0 1 2:');
        w.table(['group', 'topic', 'committed', 'log end', 'lag'], rows);
        w.check(
          rows.every((r) => r[4] === 0),
          'stopped cleanly, every group had committed up to the end of every partition it reads (lag 0)',
        );
        // #endregion lag
      } finally {
        await Promise.all(services.map((s) => s.stop()));
      }
    }),
  ),
);
