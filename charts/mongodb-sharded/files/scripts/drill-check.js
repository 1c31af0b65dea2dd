// Scratch side of the disaster-recovery drill, run by mongosh from drill-scratch.sh
// (`mongosh --nodb --quiet --norc drill-check.js`), DRILL_ACTION:
//   plan       prints "role name port" per scratch mongod: the config-server replica set on
//              27019, shard i on 27020+i, under the cluster's replica set names (so PBM restores
//              without remapping);
//   configdb   prints mongos' --configdb;
//   initiate   initiates every scratch replica set (one member) and waits for its primary;
//   shards     adds the shards through the scratch mongos (27017) and stops its balancer (PBM
//              restores with the balancer off);
//   verify     the integrity checks after the restore: the cluster has user data, and every
//              collection of every database passes `validate`; prints a summary, fails otherwise.
// No authentication: the scratch mongods listen on 127.0.0.1 of the drill pod only.
// Environment: TOPOLOGY_FILE, DRILL_ACTION, WAIT_SECONDS.
/* global print, quit, sleep, Mongo, disableTelemetry */
'use strict';

try {
  disableTelemetry();
} catch (e) {
  // already off
}

const fs = require('fs');

const env = process.env;
const topology = JSON.parse(fs.readFileSync(env.TOPOLOGY_FILE, 'utf8'));
const deadline = Date.now() + Number(env.WAIT_SECONDS || 600) * 1000;
const sets = [
  { name: topology.configsvr.name, role: 'configsvr', port: 27019 },
  ...topology.shards.map((s, i) => ({ name: s.name, role: 'shardsvr', port: 27020 + i })),
];
const host = (rs) => `127.0.0.1:${rs.port}`;
const connect = (address) => new Mongo(`mongodb://${address}/?directConnection=true&serverSelectionTimeoutMS=5000`).getDB('admin');

// fn() until it returns without throwing, pausing 1000 ms between tries; its last error
// once the deadline has passed.
function retry(what, fn) {
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (Date.now() > deadline) {
        throw new Error(`timed out ${what}: ${e.message}`);
      }
      sleep(1000);
    }
  }
}

function ok(reply, what) {
  if (reply.ok !== 1) {
    throw new Error(`${what}: ${reply.errmsg || JSON.stringify(reply)}`);
  }
  return reply;
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

function verify() {
  const mongos = connect('127.0.0.1:27017');
  const listed = ok(run(mongos, { listDatabases: 1, nameOnly: true }), 'listDatabases');
  const databases = listed.databases.map((d) => d.name).filter((n) => !['admin', 'config', 'local'].includes(n));
  if (!databases.length) {
    throw new Error('the restored cluster has no user database');
  }
  let collections = 0;
  for (const name of databases) {
    const db = mongos.getSiblingDB(name);
    const listing = ok(run(db, { listCollections: 1, nameOnly: true, filter: { type: 'collection' } }),
      `listCollections ${name}`);
    for (const c of listing.cursor.firstBatch) {
      const result = ok(run(db, { validate: c.name }), `validate ${name}.${c.name}`);
      if (result.valid !== true) {
        throw new Error(`validate ${name}.${c.name}: not valid: ${JSON.stringify(result.errors || [])}`);
      }
      collections += 1;
    }
  }
  print(`drill: ${databases.length} databases, ${collections} collections valid`);
}

try {
  switch (env.DRILL_ACTION) {
    case 'plan':
      sets.forEach((rs) => print(`${rs.role} ${rs.name} ${rs.port}`));
      break;
    case 'configdb':
      print(`${sets[0].name}/${host(sets[0])}`);
      break;
    case 'initiate':
      for (const rs of sets) {
        const admin = retry(`${host(rs)} answers`, () => {
          const db = connect(host(rs));
          ok(run(db, { ping: 1 }), 'ping');
          return db;
        });
        const config = { _id: rs.name, members: [{ _id: 0, host: host(rs) }] };
        if (rs.role === 'configsvr') {
          config.configsvr = true;
        }
        const reply = run(admin, { replSetInitiate: config });
        if (reply.ok !== 1 && reply.codeName !== 'AlreadyInitialized') {
          throw new Error(`${rs.name}: replSetInitiate: ${reply.errmsg}`);
        }
        retry(`${rs.name}: primary`, () => {
          const status = ok(run(admin, { replSetGetStatus: 1 }), 'replSetGetStatus');
          if (!(status.members || []).some((m) => m.stateStr === 'PRIMARY')) {
            throw new Error('no primary yet');
          }
        });
      }
      break;
    case 'shards': {
      const mongos = retry('the scratch mongos answers', () => {
        const db = connect('127.0.0.1:27017');
        ok(run(db, { ping: 1 }), 'ping');
        return db;
      });
      const listed = ok(run(mongos, { listShards: 1 }), 'listShards').shards.map((s) => s._id);
      for (const rs of sets.slice(1)) {
        if (!listed.includes(rs.name)) {
          ok(run(mongos, { addShard: `${rs.name}/${host(rs)}`, name: rs.name }), `addShard ${rs.name}`);
        }
      }
      ok(run(mongos, { balancerStop: 1, maxTimeMS: 60000 }), 'balancerStop');
      break;
    }
    case 'verify':
      verify();
      break;
    default:
      throw new Error(`unknown DRILL_ACTION ${env.DRILL_ACTION}`);
  }
} catch (e) {
  print(`drill: FAILED: ${e.message}`);
  quit(1);
}
