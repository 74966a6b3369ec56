/**
 * Running a full-screen Ink app the way `top` does: only on a real terminal (both ends), on the
 * alternate screen so the user's scrollback is left as it was, and always restoring the screen
 * and cursor on the way out, even if the process exits without unwinding.
 */
import type { ReactNode } from 'react';
import { render } from 'ink';

const ENTER_ALT = '\x1b[?1049h\x1b[H';
const LEAVE_ALT = '\x1b[?1049l';

export function interactiveTerminal(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/** Renders `node` full screen until the app exits (q, Ctrl-C). */
export async function runFullScreen(node: ReactNode, maxFps: number): Promise<void> {
  const out = process.stdout;
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    out.write(LEAVE_ALT);
  };
  out.write(ENTER_ALT);
  process.once('exit', leave);
  try {
    const app = render(node, { exitOnCtrlC: false, maxFps });
    await app.waitUntilExit();
  } finally {
    leave();
    process.off('exit', leave);
  }
}
