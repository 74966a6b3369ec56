/**
 * Runs one management action at a time (add, edit, revoke...) and keeps its outcome as a one-line
 * message for the screen: "working", then what happened or the daemon's refusal. The list is
 * reloaded afterwards either way, so the screen shows the daemon's truth, not a guess.
 */
import { useCallback, useState } from 'react';
import { errorText } from '../client.js';

export interface ActionMessage {
  text: string;
  tone: 'good' | 'bad' | 'muted';
}

export interface ActionRunner {
  busy: boolean;
  message: ActionMessage | null;
  /** resolves true when `fn` succeeded */
  /** `fn` answers what to say: a string is a success; a message with tone `bad` counts as a failure */
  run: (label: string, fn: () => Promise<string | ActionMessage>) => Promise<boolean>;
  say: (m: ActionMessage | null) => void;
}

export function useAction(after: () => void): ActionRunner {
  const [busy, setBusy] = useState(false);
  const [message, say] = useState<ActionMessage | null>(null);
  const run = useCallback(
    async (label: string, fn: () => Promise<string | ActionMessage>) => {
      setBusy(true);
      say({ text: `${label}…`, tone: 'muted' });
      try {
        const r = await fn();
        say(typeof r === 'string' ? { text: r, tone: 'good' } : r);
        return typeof r === 'string' || r.tone !== 'bad';
      } catch (err) {
        say({ text: `${label} failed: ${errorText(err)}`, tone: 'bad' });
        return false;
      } finally {
        setBusy(false);
        after();
      }
    },
    [after],
  );
  return { busy, message, run, say };
}
