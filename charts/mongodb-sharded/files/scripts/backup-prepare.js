// Backup helper run by mongosh from backup-dump.sh (`mongosh --nodb --quiet --norc backup-prepare.js`):
//   BACKUP_ACTION=configs   writes one mongodump --config file per replica set (the connection
//                           string with the backup user's password, readable by this user only)
//                           into RUNTIME_DIR and prints the replica set names;
//   BACKUP_ACTION=stop      stops the balancer through mongos (waits for a running round) and
//                           checks it is off; start restarts it (both as the root user).
// Environment: TOPOLOGY_FILE, SECRETS_DIR, ROOT_USER, BACKUP_USER, MONGO_TLS, TLS_DIR, RUNTIME_DIR.
/* global print, quit, Mongo, disableTelemetry */
'use strict';

try {
  disableTelemetry(); // no outbound telemetry: egress is denied, it would only add timeouts
} catch (e) {
  // already off (or forced off by a global mongosh.conf)
}

const fs = require('fs');

const env = process.env;
const topology = JSON.parse(fs.readFileSync(env.TOPOLOGY_FILE, 'utf8'));
const secret = (key) => fs.readFileSync(`${env.SECRETS_DIR}/${key}`, 'utf8').replace(/[\r\n]+$/, '');
const tls = env.MONGO_TLS === 'true' ? `&tls=true&tlsCAFile=${encodeURIComponent(`${env.TLS_DIR}/ca.crt`)}` : '';

function uri(hosts, user, password, extra) {
  return `mongodb://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hosts}/?authSource=admin${extra}${tls}`;
}

try {
  const action = env.BACKUP_ACTION;
  if (action === 'configs') {
    const password = secret('mongodb-backup-password');
    for (const rs of [topology.configsvr, ...topology.shards]) {
      const connection = uri(rs.members.join(','), env.BACKUP_USER, password,
        `&replicaSet=${rs.name}&readPreference=secondaryPreferred`);
      fs.writeFileSync(`${env.RUNTIME_DIR}/${rs.name}.yaml`, `uri: ${JSON.stringify(connection)}\n`, { mode: 0o600 });
      print(rs.name);
    }
  } else if (action === 'stop' || action === 'start') {
    const admin = new Mongo(uri(topology.mongos, env.ROOT_USER, secret('mongodb-root-password'), '')).getDB('admin');
    if (action === 'stop') {
      admin.runCommand({ balancerStop: 1, maxTimeMS: 600000 });
      const status = admin.runCommand({ balancerStatus: 1 });
      if (status.mode !== 'off' || status.inBalancerRound) {
        throw new Error(`balancer still running: ${JSON.stringify(status)}`);
      }
      print('backup: balancer stopped');
    } else {
      admin.runCommand({ balancerStart: 1, maxTimeMS: 60000 });
      print('backup: balancer started');
    }
  } else {
    throw new Error(`unknown BACKUP_ACTION ${action}`);
  }
} catch (e) {
  print(`backup: FAILED: ${e.message}`);
  quit(1);
}
