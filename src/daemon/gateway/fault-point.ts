/**
 * A fault point for the crash-ordering test (SPEC section 7: a row is committed before the
 * request counts as done). With `BC_TEST_FAULT_POINT=reply-end` in its environment the daemon
 * kills itself with SIGKILL right before a successful answer's last bytes go to the client: the
 * exact moment a row committed after the reply would be lost, so such a bug fails every run
 * instead of one run in three. Read once at start-up; unset, it costs one comparison.
 */
const POINT = process.env.BC_TEST_FAULT_POINT;

export function faultPoint(name: 'reply-end'): void {
  if (POINT === name) process.kill(process.pid, 'SIGKILL');
}
