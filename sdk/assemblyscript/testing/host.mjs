// A stand-in for Registrar's host in Node.js: it instantiates a module with
// the "registrar" imports and calls hooks with the ABI's calling convention
// (sdk/ABI.md §1).
import { readFileSync } from "node:fs";
import { randomFillSync } from "node:crypto";

export async function load(path) {
  const log = [];
  let memory;
  const imports = {
    registrar: {
      log(level, ptr, len) {
        log.push(new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, Math.min(len, 1024))));
      },
      random(ptr, len) {
        if (len > 65536) return 1;
        randomFillSync(new Uint8Array(memory.buffer, ptr, len));
        return 0;
      },
      // Deprecated in sdk/ABI.md §3; the SDK does not import it.
      now_unix_ms() {
        return BigInt(Date.now());
      },
    },
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(path), imports);
  memory = instance.exports.memory;
  if (instance.exports._initialize) instance.exports._initialize();
  return {
    exports: instance.exports,
    log,
    // call runs a hook on an input document: the output document, or
    // {failure} with the error if the module trapped.
    call(hook, doc) {
      const input = new TextEncoder().encode(doc);
      const ptr = instance.exports.registrar_alloc(input.length);
      new Uint8Array(memory.buffer, ptr, input.length).set(input);
      let packed;
      try {
        packed = instance.exports["registrar_" + hook](ptr, input.length);
      } catch (e) {
        return { failure: e };
      }
      const outPtr = Number(BigInt.asUintN(64, packed) >> 32n);
      const outLen = Number(BigInt.asUintN(32, packed));
      return new TextDecoder().decode(new Uint8Array(memory.buffer, outPtr, outLen));
    },
  };
}
