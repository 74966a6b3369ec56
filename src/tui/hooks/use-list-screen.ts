/**
 * The wiring every list screen of `bc ui` (channels, keys, prices) shares: the list loaded from
 * the daemon, the selection, the modal, the action runner, and the keys that hold for any list
 * (Enter/Esc close a notice, nothing else while a modal is open or an action runs, up/down or
 * k/j move). The screen's own keys go to `onKey`; the screen passes `view` to ManagedView.
 */
import { useRef } from 'react';
import { useInput, type Key } from 'ink';
import { useAction, type ActionRunner } from './use-action.js';
import { useResource } from './use-resource.js';
import { useModal, useSelection, type ModalHandle, type ScreenProps } from '../ui/screen.js';

/** What a screen's key and form handlers need: the client, the runner, the modal, the selected row. */
export interface ListContext<R, F extends string> {
  readonly client: ScreenProps['client'];
  readonly action: ActionRunner;
  readonly modal: ModalHandle<F>;
  /** the selected row as of now (read through refs, so safe inside key handlers) */
  readonly target: () => R | undefined;
  /** moves the selection by `delta` rows, kept inside the list */
  readonly move: (delta: number) => void;
}

export interface ListScreenOptions<T, R, F extends string> {
  readonly load: () => Promise<T>;
  /** rows to show from the loaded data, computed on every render */
  readonly rows: (data: T | null) => R[];
  /** how often the list is reloaded; useResource's default when absent */
  readonly intervalMs?: number;
  /** the screen's own keys, once no modal is open, no action runs and the key is not a move */
  readonly onKey: (ctx: ListContext<R, F>, input: string, key: Key) => void;
}

export interface ListScreen<R, F extends string> {
  readonly ctx: ListContext<R, F>;
  readonly rows: R[];
  /** the list has loaded at least once */
  readonly loaded: boolean;
  /** the ManagedView props that every list screen passes the same way */
  readonly view: {
    readonly screen: ScreenProps;
    readonly rows: R[];
    readonly selected: number;
    readonly modal: ModalHandle<F>['modal'];
    readonly closeModal: () => void;
    readonly action: ActionRunner;
    readonly loadError: string | null;
  };
}

export function useListScreen<T, R, F extends string>(
  props: ScreenProps,
  options: ListScreenOptions<T, R, F>,
): ListScreen<R, F> {
  const res = useResource(options.load, options.intervalMs);
  const rows = options.rows(res.data);
  const sel = useSelection(rows.length);
  const modal = useModal<F>(props.onCapture);
  const action = useAction(res.reload);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const ctx: ListContext<R, F> = {
    client: props.client,
    action,
    modal,
    target: () => rowsRef.current[sel.ref.current],
    move: sel.move,
  };

  useInput((input, key) => {
    const m = modal.ref.current;
    if (m?.kind === 'notice' && (key.return || key.escape)) return modal.set(null);
    if (m || action.busy) return;
    if (key.upArrow || input === 'k') return ctx.move(-1);
    if (key.downArrow || input === 'j') return ctx.move(1);
    options.onKey(ctx, input, key);
  });

  return {
    ctx,
    rows,
    loaded: res.data !== null,
    view: {
      screen: props,
      rows,
      selected: sel.selected,
      modal: modal.modal,
      closeModal: () => modal.set(null),
      action,
      loadError: res.error,
    },
  };
}
