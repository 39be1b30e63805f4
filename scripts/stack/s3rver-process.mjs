// Runs s3rver as its own process. Start it with `node --openssl-legacy-provider`: s3rver's
// ListObjectsV2 continuation tokens use a cipher that OpenSSL 3 only offers from its legacy provider.
// Usage: node --openssl-legacy-provider s3rver-process.mjs <port> <directory>
import S3rver from 's3rver';

const [port, directory] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: '127.0.0.1', directory, silent: true });
await server.run();
process.stdout.write(`s3rver listening on 127.0.0.1:${port}\n`);
const stop = async () => {
  // close() alone waits for busy keep-alive clients: a stop would keep serving them for seconds
  const closing = server.close();
  server.httpServer?.closeAllConnections?.();
  await closing;
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
