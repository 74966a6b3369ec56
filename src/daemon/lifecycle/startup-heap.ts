/**
 * Keeps the daemon's start-up from leaving a large young generation behind. Loading the daemon
 * (modules, schema, routes, the store) allocates tens of MB that die at once; V8 answers such a
 * burst by growing the young generation (to 8 MB semi-spaces) and keeps that size until a GC
 * finds the process idle, which an idle daemon never triggers: about 14 MB of RSS held for
 * nothing. So `bc daemon` starts with the young generation held at its initial size and lets V8
 * grow it again (its default factor, 2) once the daemon is ready, so traffic grows it as before.
 */
import v8 from 'node:v8';

let held = false;

/** Called before the daemon's modules load. */
export function holdYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Called once the daemon is ready; nothing to do when start-up did not hold it. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  v8.setFlagsFromString('--semi-space-growth-factor=2');
  held = false;
}
