/**
 * The terminal's size, updated on resize, so screens can fill it exactly: a frame one line taller
 * than the terminal would make Ink clear the whole screen on every update, which is what flickers.
 */
import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  columns: number;
  rows: number;
}

export function useTerminalSize(override?: Partial<TerminalSize>): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({
    columns: override?.columns ?? (stdout.columns || 80),
    rows: override?.rows ?? (stdout.rows || 24),
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // read() depends only on stdout and the override's numbers
  }, [stdout, override?.columns, override?.rows]);
  return size;
}
