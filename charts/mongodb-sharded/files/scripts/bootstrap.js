// Bootstrap of the sharded cluster, run by mongosh (`mongosh --nodb --quiet --norc bootstrap.js`):
// by the Helm post-install/post-upgrade hook Job, and (scope "configsvr") in the background by
// the first config server so mongos can start before the hook runs. Idempotent — every step
// checks first:
//   1. each replica set (config servers, then every shard): replSetGetStatus; replSetInitiate
//      only when it answers NotYetInitialized; members missing from the configuration (after a
//      scale-up) are added one at a time; members no longer wanted are only reported;
//   2. users (root, metrics, backup) and the backup user's role pbmAnyAction (Percona Backup for
//      MongoDB needs it): cluster-wide on the config servers and shard-local on every shard;
//      created when missing, updated when the password (from the Secret) or roles changed;
//   3. shards: listShards through mongos; addShard for each replica set not listed yet;
//   4. feature compatibility version: set to FEATURE_COMPATIBILITY_VERSION when given and
//      different; otherwise only a warning when it is older than the binaries (after an upgrade).
// Scope "users" (run by the first config server when the mounted auth Secret changes) only does
// step 2, on the existing replica sets: a rotated password takes effect without a helm upgrade.
// Members are reached as the internal __system user with the keyfile (no localhost exception:
// it is disabled); mongos with the root user.
// Environment: TOPOLOGY_FILE, SECRETS_DIR, ROOT_USER, METRICS_USER, BACKUP_USER, MONGO_TLS,
//              TLS_DIR, WAIT_SECONDS, BOOTSTRAP_SCOPE ("all", "configsvr" or "users"),
//              FEATURE_COMPATIBILITY_VERSION (e.g. "8.0"; empty: leave it).
/* global print, sleep, quit, Mongo, disableTelemetry */
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
// The key members authenticate with: the first one when the keyfile lists several (key rotation,
// see the README); a single key otherwise (whitespace is not part of it).
function firstKey(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length && lines[0].startsWith('- ')) {
    return lines[0].slice(2).trim().replace(/^(['"])(.*)\1$/, '$2').replace(/\s+/g, '');
  }
  return text.replace(/\s+/g, '');
}
const keyfile = firstKey(secret('mongodb-keyfile'));
const tlsOptions = env.MONGO_TLS === 'true' ? `&tls=true&tlsCAFile=${encodeURIComponent(`${env.TLS_DIR}/ca.crt`)}` : '';
const deadline = Date.now() + Number(env.WAIT_SECONDS || 600) * 1000;
const scope = env.BOOTSTRAP_SCOPE || 'all';

const users = [
  { user: env.ROOT_USER || 'root', key: 'mongodb-root-password', roles: [{ role: 'root', db: 'admin' }] },
  {
    user: env.METRICS_USER || 'metrics',
    key: 'mongodb-metrics-password',
    roles: [{ role: 'clusterMonitor', db: 'admin' }, { role: 'read', db: 'local' }],
  },
  {
    user: env.BACKUP_USER || 'backup',
    key: 'mongodb-backup-password',
    // what Percona Backup for MongoDB's agents and CLI need (PBM documentation, "Configure
    // authentication in MongoDB")
    roles: [
      { role: 'backup', db: 'admin' }, { role: 'clusterMonitor', db: 'admin' }, { role: 'readWrite', db: 'admin' },
      { role: 'restore', db: 'admin' }, { role: 'pbmAnyAction', db: 'admin' },
    ],
  },
];
const pbmRole = {
  createRole: 'pbmAnyAction', privileges: [{ resource: { anyResource: true }, actions: ['anyAction'] }], roles: [],
};

function log(message) {
  print(`bootstrap: ${message}`);
}

function uri(hosts, user, password, authSource, extra) {
  return `mongodb://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hosts}/` +
    `?authSource=${authSource}&serverSelectionTimeoutMS=5000&connectTimeoutMS=5000${extra || ''}${tlsOptions}`;
}

const connections = {};
function asSystem(host) {
  if (!connections[host]) {
    connections[host] = new Mongo(uri(host, '__system', keyfile, 'local', '&directConnection=true')).getDB('admin');
  }
  return connections[host];
}

// A command's reply; server errors (ok: 0) come back as { ok: 0, code, codeName, errmsg } instead
// of being thrown, network errors are thrown.
function run(db, command) {
  try {
    return db.runCommand(command);
  } catch (e) {
    if (e.code !== undefined || e.codeName !== undefined) {
      return { ok: 0, code: e.code, codeName: e.codeName, errmsg: e.message };
    }
    throw e;
  }
}

// fn() until it returns without throwing, pausing 3000 ms between tries; its last error
// once the deadline has passed.
function retry(what, fn) {
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (Date.now() > deadline) {
        throw new Error(`timed out ${what}: ${e.message}`);
      }
      log(`waiting: ${what}: ${e.message}`);
      sleep(3000);
    }
  }
}

function primaryOf(rs) {
  return retry(`${rs.name}: electing a primary`, () => {
    const status = run(asSystem(rs.members[0]), { replSetGetStatus: 1 });
    const primary = (status.members || []).find((m) => m.stateStr === 'PRIMARY');
    if (!primary) {
      throw new Error(status.errmsg || 'no primary yet');
    }
    return primary.name;
  });
}

function ensureReplicaSet(rs) {
  for (const host of rs.members) {
    retry(`${rs.name}: ${host} answers`, () => {
      const reply = run(asSystem(host), { ping: 1 });
      if (reply.ok !== 1) {
        throw new Error(reply.errmsg);
      }
    });
  }
  const status = run(asSystem(rs.members[0]), { replSetGetStatus: 1 });
  if (status.ok !== 1) {
    if (status.codeName !== 'NotYetInitialized') {
      throw new Error(`${rs.name}: replSetGetStatus: ${status.errmsg}`);
    }
    const config = { _id: rs.name, members: rs.members.map((host, i) => ({ _id: i, host })) };
    if (rs.configsvr) {
      config.configsvr = true;
    }
    log(`${rs.name}: initiating with ${rs.members.join(', ')}`);
    const reply = run(asSystem(rs.members[0]), { replSetInitiate: config });
    if (reply.ok !== 1 && reply.codeName !== 'AlreadyInitialized') {
      throw new Error(`${rs.name}: replSetInitiate: ${reply.errmsg}`);
    }
  }
  let primary = primaryOf(rs);
  // Members added by a scale-up: one voting member per reconfig (MongoDB's safe reconfig rule).
  for (;;) {
    const config = run(asSystem(primary), { replSetGetConfig: 1 }).config;
    const known = config.members.map((m) => m.host);
    const missing = rs.members.filter((host) => !known.includes(host));
    const extra = known.filter((host) => !rs.members.includes(host));
    if (extra.length) {
      log(`${rs.name}: WARNING: members ${extra.join(', ')} are configured but no longer wanted; remove them with rs.remove() (see the README)`);
    }
    if (!missing.length) {
      break;
    }
    const nextId = Math.max(...config.members.map((m) => m._id)) + 1;
    config.members.push({ _id: nextId, host: missing[0] });
    config.version += 1;
    delete config.term;
    log(`${rs.name}: adding member ${missing[0]}`);
    const reply = run(asSystem(primary), { replSetReconfig: config });
    if (reply.ok !== 1) {
      throw new Error(`${rs.name}: replSetReconfig: ${reply.errmsg}`);
    }
    primary = primaryOf(rs);
  }
  log(`${rs.name}: ok, primary ${primary}`);
  return primary;
}

function canLogIn(host, user, password) {
  try {
    const db = new Mongo(uri(host, user, password, 'admin', '&directConnection=true')).getDB('admin');
    return run(db, { connectionStatus: 1 }).authInfo.authenticatedUsers.length > 0;
  } catch (e) {
    return false;
  }
}

function roleNames(roles) {
  return roles.map((r) => `${r.role}@${r.db}`).sort().join(',');
}

function ensureUsers(where, primary) {
  const admin = asSystem(primary);
  const roles = run(admin, { rolesInfo: pbmRole.createRole });
  if (roles.ok !== 1) {
    throw new Error(`${where}: rolesInfo: ${roles.errmsg}`);
  }
  if (!roles.roles.length) {
    log(`${where}: creating role ${pbmRole.createRole}`);
    const reply = run(admin, pbmRole);
    if (reply.ok !== 1) {
      throw new Error(`${where}: createRole ${pbmRole.createRole}: ${reply.errmsg}`);
    }
  }
  for (const u of users) {
    const password = secret(u.key);
    const info = run(admin, { usersInfo: u.user });
    if (info.ok !== 1) {
      throw new Error(`${where}: usersInfo ${u.user}: ${info.errmsg}`);
    }
    let reply = { ok: 1 };
    if (!info.users.length) {
      log(`${where}: creating user ${u.user}`);
      reply = run(admin, { createUser: u.user, pwd: password, roles: u.roles });
    } else if (!canLogIn(primary, u.user, password)) {
      log(`${where}: updating the password of ${u.user}`);
      reply = run(admin, { updateUser: u.user, pwd: password, roles: u.roles });
    } else if (roleNames(info.users[0].roles) !== roleNames(u.roles)) {
      log(`${where}: updating the roles of ${u.user}`);
      reply = run(admin, { updateUser: u.user, roles: u.roles });
    }
    if (reply.ok !== 1) {
      throw new Error(`${where}: user ${u.user}: ${reply.errmsg}`);
    }
  }
}

function ensureShards() {
  const root = users[0];
  const password = secret(root.key);
  const admin = retry(`mongos ${topology.mongos} answers`, () => {
    const db = new Mongo(uri(topology.mongos, root.user, password, 'admin')).getDB('admin');
    const reply = run(db, { listShards: 1 });
    if (reply.ok !== 1) {
      throw new Error(reply.errmsg);
    }
    return db;
  });
  const listed = run(admin, { listShards: 1 }).shards.map((s) => s._id);
  for (const shard of topology.shards) {
    if (listed.includes(shard.name)) {
      continue;
    }
    log(`adding shard ${shard.name}`);
    const reply = run(admin, { addShard: `${shard.name}/${shard.members.join(',')}`, name: shard.name });
    if (reply.ok !== 1) {
      throw new Error(`addShard ${shard.name}: ${reply.errmsg}`);
    }
  }
  const wanted = topology.shards.map((s) => s.name);
  const unwanted = listed.filter((name) => !wanted.includes(name));
  if (unwanted.length) {
    log(`WARNING: shards ${unwanted.join(', ')} are in the cluster but no longer wanted; drain them with removeShard (see the README)`);
  }
  log(`shards: ${wanted.join(', ')}`);
}

function ensureFeatureCompatibilityVersion() {
  const root = users[0];
  const admin = new Mongo(uri(topology.mongos, root.user, secret(root.key), 'admin')).getDB('admin');
  const current = run(admin, { getParameter: 1, featureCompatibilityVersion: 1 });
  const build = run(admin, { buildInfo: 1 });
  if (current.ok !== 1 || build.ok !== 1) {
    throw new Error(`feature compatibility version: ${current.errmsg || build.errmsg}`);
  }
  const fcv = current.featureCompatibilityVersion.version;
  const binary = build.version.split('.').slice(0, 2).join('.');
  const wanted = env.FEATURE_COMPATIBILITY_VERSION || '';
  if (wanted && wanted !== fcv) {
    log(`setting the feature compatibility version ${fcv} -> ${wanted}`);
    const reply = run(admin, { setFeatureCompatibilityVersion: wanted, confirm: true });
    if (reply.ok !== 1) {
      throw new Error(`setFeatureCompatibilityVersion ${wanted}: ${reply.errmsg}`);
    }
  } else if (!wanted && fcv !== binary) {
    log(`WARNING: feature compatibility version ${fcv}, binaries ${build.version}: once every member runs ` +
      `${binary}, set featureCompatibilityVersion: "${binary}" (see the README)`);
  } else {
    log(`feature compatibility version ${fcv}`);
  }
}

try {
  if (scope === 'users') {
    ensureUsers(topology.configsvr.name, primaryOf(topology.configsvr));
    for (const shard of topology.shards) {
      ensureUsers(shard.name, primaryOf(shard));
    }
    log('users ok');
  } else {
    const configPrimary = ensureReplicaSet(topology.configsvr);
    if (scope !== 'configsvr') {
      ensureUsers(topology.configsvr.name, configPrimary);
      for (const shard of topology.shards) {
        ensureUsers(shard.name, ensureReplicaSet(shard));
      }
      ensureShards();
      ensureFeatureCompatibilityVersion();
      log('cluster ok');
    }
  }
} catch (e) {
  log(`FAILED: ${e.message}`);
  quit(1);
}
