#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so a fresh clone needs no build step.
//
// The product runs on Node 24 (as Lambda's nodejs24.x does); npm scripts already use the Node 24
// the project installs (node_modules/.bin). Started by an older system Node, hand over to it.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const path = require('node:path');
  const { spawn } = require('node:child_process');
  const node24 = path.join(__dirname, '..', 'node_modules', 'node', 'bin', 'node');
  if (!require('node:fs').existsSync(node24)) {
    process.stderr.write(
      `criminalip-opencti needs Node.js 24 or later (this is ${process.version}); run npm ci first\n`,
    );
    process.exit(2);
  }
  const child = spawn(node24, [__filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C and `kill` reach the real process, which stops cleanly; this one waits for it.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
} else {
  require('tsx/cjs');
  require('../lib/cli.ts');
}
