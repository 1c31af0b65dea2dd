// Stops (BALANCER=stop) or starts (BALANCER=start) the balancer through mongos as the root user
// (`mongosh --nodb --quiet --norc balancer.js`): PBM restores a sharded cluster with the balancer
// off; the restore Job stops it first and starts it again last, after the routers restarted.
// Environment: TOPOLOGY_FILE, SECRETS_DIR, ROOT_USER, MONGO_TLS, TLS_DIR, BALANCER.
/* global print, quit, Mongo, disableTelemetry */
'use strict';

try {
  disableTelemetry();
} catch (e) {
  // already off
}

const fs = require('fs');

const env = process.env;
try {
  const topology = JSON.parse(fs.readFileSync(env.TOPOLOGY_FILE, 'utf8'));
  const password = fs.readFileSync(`${env.SECRETS_DIR}/mongodb-root-password`, 'utf8').replace(/[\r\n]+$/, '');
  const tls = env.MONGO_TLS === 'true' ? `&tls=true&tlsCAFile=${encodeURIComponent(`${env.TLS_DIR}/ca.crt`)}` : '';
  const admin = new Mongo(`mongodb://${encodeURIComponent(env.ROOT_USER)}:${encodeURIComponent(password)}@` +
    `${topology.mongos}/?authSource=admin${tls}`).getDB('admin');
  const stop = env.BALANCER === 'stop';
  admin.runCommand(stop ? { balancerStop: 1, maxTimeMS: 600000 } : { balancerStart: 1, maxTimeMS: 60000 });
  const status = admin.runCommand({ balancerStatus: 1 });
  if (stop && (status.mode !== 'off' || status.inBalancerRound)) {
    throw new Error(`balancer still running: ${JSON.stringify(status)}`);
  }
  print(`balancer: ${status.mode}`);
} catch (e) {
  print(`balancer: FAILED: ${e.message}`);
  quit(1);
}
