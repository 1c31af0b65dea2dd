// Has the local mongod or mongos reload its certificate after entrypoint.sh rebuilt server.pem from
// a renewed Secret (`mongosh --nodb --quiet --norc reload.js`): `rotateCertificates` re-reads
// net.tls.certificateKeyFile and CAFile; open connections are kept, new handshakes present the new
// certificate. Connects to localhost as the internal __system user with the keyfile.
// Environment: MONGO_PORT, SECRETS_DIR, MONGO_TLS, TLS_DIR.
/* global print, quit, Mongo */
'use strict';

const fs = require('fs');

const env = process.env;
// The key this member authenticates with: the first one when the keyfile lists several (rotation).
function firstKey(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length && lines[0].startsWith('- ')) {
    return lines[0].slice(2).trim().replace(/^(['"])(.*)\1$/, '$2').replace(/\s+/g, '');
  }
  return text.replace(/\s+/g, '');
}

try {
  const keyfile = firstKey(fs.readFileSync(`${env.SECRETS_DIR}/mongodb-keyfile`, 'utf8'));
  const tls = env.MONGO_TLS === 'true' ? `&tls=true&tlsCAFile=${encodeURIComponent(`${env.TLS_DIR}/ca.crt`)}` : '';
  const admin = new Mongo(`mongodb://__system:${encodeURIComponent(keyfile)}@localhost:${env.MONGO_PORT}/` +
    `?authSource=local&directConnection=true&serverSelectionTimeoutMS=5000${tls}`).getDB('admin');
  const reply = admin.runCommand({ rotateCertificates: 1, message: 'certificate renewed (mounted Secret changed)' });
  if (reply.ok !== 1) {
    throw new Error(reply.errmsg || JSON.stringify(reply));
  }
  print(`reload: rotateCertificates ok on localhost:${env.MONGO_PORT}`);
} catch (e) {
  print(`reload: FAILED: ${e.message}`);
  quit(1);
}
