/**
 * The baseline for `npm run bench -- produce`: the plainest server that takes
 * bytes over TCP and puts them in a file. Run as its own process:
 *
 *   node dist/bench/client-sink.js <file>
 *
 * It listens on 127.0.0.1, a free port, and prints `sink listening on PORT`
 * on stdout. Every chunk a connection delivers is written to <file> with one
 * fs.writeSync (no fsync: samsa's acks=1 does not fsync either), then
 * acknowledged with 4 bytes, the chunk's length (uint32 BE). No framing, no
 * parsing, no CRC, no index: what is left is the cost of the socket, the
 * event loop and the write itself. Exits on SIGTERM or SIGINT.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';

function main(file: string): void {
  const fd = openSync(file, 'w');
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      writeSync(fd, chunk);
      const ack = Buffer.allocUnsafe(4);
      ack.writeUInt32BE(chunk.length, 0);
      socket.write(ack);
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.stdout.write(`sink listening on ${port}\n`);
  });
  const stop = (): void => {
    server.close();
    closeSync(fd);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node client-sink.js <file>\n');
  process.exitCode = 2;
} else {
  main(file);
}
