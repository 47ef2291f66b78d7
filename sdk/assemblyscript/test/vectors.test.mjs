// Replays the ABI vectors (sdk/testdata/vectors) against the built
// conformance module in Node.js, as the host's test does through wazero.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { load } from "../testing/host.mjs";

const dir = new URL("../../testdata/vectors/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
assert.equal(files.length, 6, "one vector file per hook");

// Compact JSON with the raw text of strings kept, so that escapes such as
// lone surrogates reach the module as the vector file writes them.
function compact(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!" \t\r\n".includes(c)) {
      out += c;
    }
  }
  return out;
}

// rawMembers finds the raw text of each vector's "input" in a file.
function rawInputs(text) {
  const inputs = [];
  let at = 0;
  for (;;) {
    at = text.indexOf('"input": ', at);
    if (at < 0) return inputs;
    let i = at + 9;
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) break;
      }
    }
    inputs.push(compact(text.slice(start, i + 1)));
    at = i;
  }
}

for (const file of files) {
  const text = readFileSync(new URL(file, dir), "utf8");
  const { hook, vectors } = JSON.parse(text);
  const raws = rawInputs(text);
  let next = 0;
  for (const v of vectors) {
    const doc = v.input !== undefined ? raws[next++] : v.input_text;
    test(`${hook}: ${v.name}`, async () => {
      // A fresh instance per vector: a failure traps, and a trapped
      // instance is thrown away, as the host does.
      const m = await load(new URL("../conformance/conformance.wasm", import.meta.url));
      const out = m.call(hook, doc);
      const logged = m.log.join("\n");
      if (v.want_log) assert.ok(logged.includes(v.want_log), `log ${JSON.stringify(logged)} lacks ${v.want_log}`);
      if (v.want_failure) {
        assert.ok(out.failure, `succeeded with ${out}; want a failure`);
        return;
      }
      assert.equal(typeof out, "string", `failed: ${out.failure}`);
      const got = JSON.parse(out);
      if (v.want) {
        // JSON.stringify keeps member order: order counts.
        assert.equal(JSON.stringify(got), JSON.stringify(v.want));
      } else {
        assert.deepEqual(Object.keys(got), Object.keys(v.want_match));
        for (const [name, re] of Object.entries(v.want_match)) assert.match(got[name], new RegExp(re));
      }
    });
  }
  assert.equal(next, raws.length, `${file}: every input found`);
}
