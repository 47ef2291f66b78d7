import { log, Level } from "./host";

// The hook being called, for failure messages: the index of its name in
// hookName, kept in static memory rather than in a global, so that abort,
// which the runtime may call at any time, can read it.
const HOOK = memory.data(4);

/** @internal */
export function setHook(hook: i32): void {
  store<i32>(HOOK, hook);
}

function hookName(i: i32): string {
  switch (i) {
    case 0:
      return "policy";
    case 1:
      return "id_factory";
    case 2:
      return "secret_factory";
    case 3:
      return "issue_registration_access_token";
    case 4:
      return "rotate_registration_access_token";
    case 5:
      return "issue_access_token";
  }
  return "?";
}

/** @internal Logs why the call fails and traps. */
export function failCall(message: string): void {
  log(Level.Error, "registrar: the " + hookName(load<i32>(HOOK)) + " hook failed: " + message);
  unreachable();
}

/**
 * The runtime's abort (a failed assertion, an out-of-bounds index, a
 * throw): logs it as the failure of the current hook and traps. Build with
 * --use abort=<path of this file without .ts>/abort so that the module
 * imports nothing but Registrar's functions.
 */
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  const what = message == null ? "abort" : message;
  const where = file == null ? "?" : file;
  failCall(what + " at " + where + ":" + line.toString() + ":" + column.toString());
}
