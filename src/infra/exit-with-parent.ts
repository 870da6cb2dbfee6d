/**
 * For a plugin process the engine starts: the engine stops its plugins when it ends, but an engine
 * killed with SIGKILL cannot, and a plugin left behind keeps serving nobody. When our parent is
 * gone (we were re-parented), exit. The check runs once a second and never keeps the process alive.
 */
export function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
}
