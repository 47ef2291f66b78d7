// Package plugins is the WebAssembly host of Registrar: it loads policy
// modules (sdk/ABI.md), checks them, compiles them once, keeps a bounded
// pool of instances per module, and runs their hooks under a deadline, a
// memory cap and size limits, in a sandbox with no file system, network or
// environment. Host implements engine.Modules, so the registration pipeline
// calls modules by tenant and name without knowing they are WebAssembly.
//
// Every wazero type stays inside this package.
package plugins
