// A stand-in for mongosh and a sharded cluster, to run the mongodb-sharded chart's mongosh scripts
// under plain node: `node fake_mongosh.js STATE.json SCRIPT.js`.
//
// STATE.json describes the cluster the script talks to and is rewritten with the cluster after
// the run, with `actions` extended by every state-changing command the script sent (replSetInitiate,
// replSetReconfig, createUser, updateUser, createRole, addShard, balancerStop, balancerStart,
// rotateCertificates, setFeatureCompatibilityVersion). Like mongosh, `db.runCommand` throws a
// server error (with code and codeName) when a command fails.
//
// State: { keyfile, mongos: "host:port",
//          replicaSets: { NAME: { members: [host...], initiated, config, users: {user: {pwd, roles}},
//                                 roles: {role: {...}} } },
//          shards: [{_id, host}], balancer: "full"|"off", down: [host...],
//          fcv: "7.0", binaryVersion: "8.0.17", noAuth: bool (scratch clusters: no credentials),
//          databases: {db: {collection: {valid: bool}}} (what listDatabases/validate see via mongos) }
'use strict';

const fs = require('fs');
const path = require('path');

const [statePath, scriptPath] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
state.actions = state.actions || [];

class ServerError extends Error {
  constructor(code, codeName, message) {
    super(message || codeName);
    this.code = code;
    this.codeName = codeName;
  }
}

function replicaSetOf(host) {
  return Object.keys(state.replicaSets).find((name) => state.replicaSets[name].members.includes(host));
}

function parse(uri) {
  const m = /^mongodb:\/\/(?:([^:@]*):([^@]*)@)?([^/]+)\/\?(.*)$/.exec(uri);
  if (!m) {
    throw new Error(`bad uri ${uri}`);
  }
  const options = Object.fromEntries(m[4].split('&').filter(Boolean).map((kv) => kv.split('=')));
  return { user: m[1] && decodeURIComponent(m[1]), password: m[2] && decodeURIComponent(m[2]), hosts: m[3].split(','), options };
}

function record(action) {
  state.actions.push(action);
}

class Db {
  constructor(host, user, dbName) {
    this.host = host;
    this.user = user;
    this.dbName = dbName || 'admin';
    this.isMongos = host === state.mongos;
    this.rsName = this.isMongos ? Object.keys(state.replicaSets).find((n) => state.replicaSets[n].config && state.replicaSets[n].config.configsvr) : replicaSetOf(host);
  }

  getSiblingDB(name) {
    return new Db(this.host, this.user, name);
  }

  runCommand(cmd) {
    const name = Object.keys(cmd)[0];
    const rs = state.replicaSets[this.rsName];
    const primary = rs && rs.initiated ? rs.config.members[0].host : null;
    const mustBePrimary = () => {
      if (!this.isMongos && this.host !== primary) {
        throw new ServerError(10107, 'NotWritablePrimary');
      }
    };
    switch (name) {
      case 'ping':
        return { ok: 1 };
      case 'connectionStatus':
        return { ok: 1, authInfo: { authenticatedUsers: [{ user: this.user, db: 'admin' }] } };
      case 'replSetGetStatus':
        if (!rs.initiated) {
          throw new ServerError(94, 'NotYetInitialized', 'no replset config has been received');
        }
        return { ok: 1, members: rs.config.members.map((m) => ({ name: m.host, stateStr: m.host === primary ? 'PRIMARY' : 'SECONDARY' })) };
      case 'replSetInitiate':
        if (rs.initiated) {
          throw new ServerError(23, 'AlreadyInitialized');
        }
        rs.initiated = true;
        rs.config = { ...cmd.replSetInitiate, version: 1, term: 1 };
        record({ action: 'replSetInitiate', rs: this.rsName, members: cmd.replSetInitiate.members.map((m) => m.host), configsvr: !!cmd.replSetInitiate.configsvr });
        return { ok: 1 };
      case 'replSetGetConfig':
        return { ok: 1, config: JSON.parse(JSON.stringify(rs.config)) };
      case 'replSetReconfig': {
        mustBePrimary();
        const next = cmd.replSetReconfig;
        const added = next.members.filter((m) => !rs.config.members.some((o) => o.host === m.host));
        if (next.version !== rs.config.version + 1 || added.length > 1 || next.term !== undefined) {
          throw new ServerError(103, 'NewReplicaSetConfigurationIncompatible', 'bad reconfig');
        }
        rs.config = { ...next, term: rs.config.term };
        record({ action: 'replSetReconfig', rs: this.rsName, added: added.map((m) => m.host) });
        return { ok: 1 };
      }
      case 'rolesInfo': {
        const r = (rs.roles || {})[cmd.rolesInfo];
        return { ok: 1, roles: r ? [{ role: cmd.rolesInfo, ...r }] : [] };
      }
      case 'createRole':
        mustBePrimary();
        rs.roles = rs.roles || {};
        if (rs.roles[cmd.createRole]) {
          throw new ServerError(51002, 'Location51002', 'Role already exists');
        }
        rs.roles[cmd.createRole] = { privileges: cmd.privileges, roles: cmd.roles };
        record({ action: 'createRole', rs: this.rsName, role: cmd.createRole });
        return { ok: 1 };
      case 'rotateCertificates':
        if (this.user !== '__system') {
          throw new ServerError(13, 'Unauthorized', 'not authorized on admin to execute command');
        }
        record({ action: 'rotateCertificates', host: this.host, message: cmd.message });
        return { ok: 1 };
      case 'getParameter':
        return { ok: 1, featureCompatibilityVersion: { version: state.fcv || '8.0' } };
      case 'buildInfo':
        return { ok: 1, version: state.binaryVersion || '8.0.17' };
      case 'setFeatureCompatibilityVersion':
        if (!this.isMongos || cmd.confirm !== true) {
          throw new ServerError(7369100, 'Location7369100', 'run through mongos with confirm: true');
        }
        state.fcv = cmd.setFeatureCompatibilityVersion;
        record({ action: 'setFeatureCompatibilityVersion', version: state.fcv });
        return { ok: 1 };
      case 'listDatabases':
        return { ok: 1, databases: ['admin', 'config', ...Object.keys(state.databases || {})].map((name) => ({ name })) };
      case 'listCollections':
        return { ok: 1, cursor: { firstBatch: Object.keys((state.databases || {})[this.dbName] || {}).map((name) => ({ name, type: 'collection' })) } };
      case 'validate': {
        const c = ((state.databases || {})[this.dbName] || {})[cmd.validate];
        if (!c) {
          throw new ServerError(26, 'NamespaceNotFound', `ns ${this.dbName}.${cmd.validate} not found`);
        }
        return { ok: 1, valid: c.valid, errors: c.valid ? [] : ['corrupt'] };
      }
      case 'usersInfo': {
        const u = rs.users[cmd.usersInfo];
        return { ok: 1, users: u ? [{ user: cmd.usersInfo, roles: u.roles }] : [] };
      }
      case 'createUser':
        mustBePrimary();
        if (rs.users[cmd.createUser]) {
          throw new ServerError(51003, 'Location51003', 'User already exists');
        }
        rs.users[cmd.createUser] = { pwd: cmd.pwd, roles: cmd.roles };
        record({ action: 'createUser', rs: this.rsName, user: cmd.createUser });
        return { ok: 1 };
      case 'updateUser': {
        mustBePrimary();
        const u = rs.users[cmd.updateUser];
        if (cmd.pwd !== undefined) {
          u.pwd = cmd.pwd;
        }
        if (cmd.roles !== undefined) {
          u.roles = cmd.roles;
        }
        record({ action: 'updateUser', rs: this.rsName, user: cmd.updateUser, pwd: cmd.pwd !== undefined });
        return { ok: 1 };
      }
      case 'listShards':
        return { ok: 1, shards: state.shards };
      case 'addShard': {
        const [rsName, hosts] = cmd.addShard.split('/');
        const target = state.replicaSets[rsName];
        if (!target || !target.initiated || cmd.name !== rsName || hosts.split(',').some((h) => !target.members.includes(h))) {
          throw new ServerError(96, 'OperationFailed', `cannot add ${cmd.addShard}`);
        }
        state.shards.push({ _id: cmd.name, host: cmd.addShard });
        record({ action: 'addShard', name: cmd.name });
        return { ok: 1 };
      }
      case 'balancerStop':
        state.balancer = 'off';
        record({ action: 'balancerStop' });
        return { ok: 1 };
      case 'balancerStart':
        state.balancer = 'full';
        record({ action: 'balancerStart' });
        return { ok: 1 };
      case 'balancerStatus':
        return { ok: 1, mode: state.balancer || 'full', inBalancerRound: false };
      default:
        throw new ServerError(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }
}

class Mongo {
  constructor(uri) {
    const { user, password, hosts, options } = parse(uri);
    const host = hosts[0];
    if ((state.down || []).includes(host) || (host !== state.mongos && !replicaSetOf(host))) {
      throw new Error(`connect ECONNREFUSED ${host}`);
    }
    if (user === undefined) {
      if (!state.noAuth) {
        throw new ServerError(13, 'Unauthorized', 'command requires authentication');
      }
    } else if (user === '__system') {
      if (password !== state.keyfile || options.authSource !== 'local') {
        throw new ServerError(18, 'AuthenticationFailed');
      }
    } else {
      const rsName = host === state.mongos ? Object.keys(state.replicaSets).find((n) => state.replicaSets[n].config && state.replicaSets[n].config.configsvr) : replicaSetOf(host);
      const users = rsName ? state.replicaSets[rsName].users : {};
      if (!users[user] || users[user].pwd !== password) {
        throw new ServerError(18, 'AuthenticationFailed');
      }
    }
    this.db = new Db(host, user);
  }

  getDB() {
    return this.db;
  }
}

class Quit extends Error {}

globalThis.Mongo = Mongo;
globalThis.print = (...args) => console.log(...args);
globalThis.sleep = () => {};
globalThis.disableTelemetry = () => {
  state.telemetryDisabled = true;
};
globalThis.quit = (code) => {
  throw new Quit(String(code));
};

let status = 0;
try {
  require(path.resolve(scriptPath));
} catch (e) {
  if (!(e instanceof Quit)) {
    throw e;
  }
  status = Number(e.message) || 0;
}
fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
process.exitCode = status;
