import { Slice } from "./json";

/** The buffer the host writes the current call's input into, reused from
 * call to call. A global keeps it from the garbage collector, which does
 * not move objects. */
export class InputBuffer {
  static data: ArrayBuffer = new ArrayBuffer(1024);
}

/** The input at (ptr, len), which registrar_alloc made room for. */
export function inputSlice(ptr: u32, len: u32): Slice {
  const data = InputBuffer.data;
  assert(<usize>ptr == changetype<usize>(data) && <i32>len < data.byteLength, "the host passed an input that registrar_alloc did not return");
  return new Slice(<usize>ptr, <i32>len);
}
