// Package wasm owns the WebAssembly runtime of the policy host: it checks
// and compiles one module (imports, exports, ABI version, capped tables),
// keeps a bounded pool of its instances, serves the host imports (log,
// time, randomness, sleep), and runs its hooks under a deadline, a memory
// cap and size limits, in a sandbox with no file system, network or
// environment. It also writes the input envelope and reads the output
// documents of sdk/ABI.md.
//
// It knows nothing of tenants, sources, versions or activation: package
// plugins loads modules through it and decides which serve. Every wazero
// type stays inside this package.
package wasm
