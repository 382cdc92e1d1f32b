// Preloaded into a child process (node -r) by tests that kill it at a known point: the
// STOP_AT_APPEND-th append to a file whose path ends with STOP_PATH_SUFFIX is never performed;
// instead the file STOP_MARKER is written and the process waits (to be killed). Everything
// appended before it is on disk, so what the killed run left is exactly known.
const fsp = require('node:fs/promises');
const { writeFileSync } = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');

const stopAt = Number(process.env.STOP_AT_APPEND);
const suffix = process.env.STOP_PATH_SUFFIX ?? '';
const marker = process.env.STOP_MARKER;
const appendFile = fsp.appendFile;
let count = 0;
fsp.appendFile = (path, ...rest) => {
  if (typeof path === 'string' && path.endsWith(suffix) && ++count === stopAt) {
    writeFileSync(marker, String(count - 1));
    setInterval(() => {}, 1 << 30); // stay alive until killed
    return new Promise(() => {});
  }
  return appendFile(path, ...rest);
};
syncBuiltinESMExports();
