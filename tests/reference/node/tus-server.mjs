// The reference tus server that src/tus/tests/interop.rs checks Pishkhan's
// tus client against: tus.io's own Node.js implementation (@tus/server) over
// its file store (@tus/file-store), configured as its README shows and
// nothing more, so the test talks to a standard tus 1.0.0 server.
//
//   node tus-server.mjs PORT DIR
//
// Serves tus at http://127.0.0.1:PORT/files/ (PORT 0: any free port) and
// stores each upload in DIR/<id> (its metadata in DIR/<id>.json). The first
// line on stdout is the port listened on; the test reads it. The server
// exits when its standard input closes, so it does not outlive a test
// process that died without killing it.
//
// Test-only: installed by `bash installer/dev.sh test` under
// target/reference-node (package.json and package-lock.json beside this
// file pin the versions); nothing here ships with the station.

import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, directory] = process.argv.slice(2);
if (port === undefined || directory === undefined || !/^\d+$/.test(port)) {
  console.error('usage: node tus-server.mjs PORT DIR');
  process.exit(2);
}

const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory }),
});

const server = http.createServer((req, res) => tus.handle(req, res));
server.listen(Number(port), '127.0.0.1', () => {
  console.log(server.address().port);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
