import { test } from "node:test";
import assert from "node:assert/strict";
import { load } from "../testing/host.mjs";

const m = await load(new URL("../build/sdk_test.wasm", import.meta.url));

for (const name of Object.keys(m.exports).filter((n) => n.startsWith("test_"))) {
  test(name, () => assert.equal(m.exports[name](), 0, `${name}: check ${m.exports[name]()} failed`));
}

test("abort is logged as the hook's failure and traps", async () => {
  const fresh = await load(new URL("../build/sdk_test.wasm", import.meta.url));
  assert.throws(() => fresh.exports.crash(), WebAssembly.RuntimeError);
  assert.match(fresh.log.join("\n"), /^registrar: the policy hook failed: asked to crash at test\/sdk_test\.ts:\d+:\d+$/);
});
