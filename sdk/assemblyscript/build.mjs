// Builds the SDK's modules with the pinned AssemblyScript compiler:
// conformance/conformance.wasm (committed; the host replays the ABI vectors
// against it) and build/sdk_test.wasm (the SDK's unit tests, for npm test).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const asc = join(root, "node_modules", ".bin", "asc");

// The flags every module of this SDK is built with (see README.md).
export const flags = ["-O3", "--runtime", "minimal", "--use", "abort=assembly/abort/abort"];

mkdirSync(join(root, "build"), { recursive: true });
for (const [entry, out] of [
  ["conformance/conformance.ts", "conformance/conformance.wasm"],
  ["test/sdk_test.ts", "build/sdk_test.wasm"],
]) {
  execFileSync(asc, [entry, "-o", out, ...flags], { cwd: root, stdio: "inherit" });
}
