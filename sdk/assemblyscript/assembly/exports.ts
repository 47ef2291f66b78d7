// The exports every module has besides its hooks (sdk/ABI.md §1). A
// module's entry file re-exports them:
//
//   export * from "@registrar-dev/registrar-sdk/assembly/exports";

import { InputBuffer } from "./buffer";

export function registrar_abi_version(): i32 {
  return 1;
}

/** Makes room for an input of size bytes. */
export function registrar_alloc(size: u32): u32 {
  if (<i32>size >= InputBuffer.data.byteLength) InputBuffer.data = new ArrayBuffer(<i32>size + 1);
  return <u32>changetype<usize>(InputBuffer.data);
}
