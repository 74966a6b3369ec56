/**
 * The `bc` / `burncloud` entry point (bin/bc.js imports it): runs the command line and sets the
 * exit code. Kept tiny and free of ink, react and fastify so every command starts fast; the
 * daemon is imported only by `bc daemon`.
 */
import { runCli } from './program.js';

// `bc logs | head` closes the pipe early: that is the reader being done, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  streams: { stdout: process.stdout, stderr: process.stderr },
  onInterrupt: (cb) => process.once('SIGINT', cb),
});
