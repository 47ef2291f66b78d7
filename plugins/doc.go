// Package plugins is the WebAssembly host of Registrar: it loads policy
// modules (sdk/ABI.md), checks them, compiles them once, keeps a bounded
// pool of instances per module, and runs their hooks under a deadline, a
// memory cap and size limits, in a sandbox with no file system, network or
// environment. Host implements engine.Modules, so the registration pipeline
// calls modules by tenant and name without knowing they are WebAssembly.
//
// Modules come from a policy folder and from a store of uploaded versions
// (engine.PolicyStore), and change while the host serves: each new version
// is read, compiled, checked, instantiated, pre-warmed and self-tested
// (sdk/ABI.md §7) off the request path, then swapped in with one atomic
// store of an immutable catalogue; the version it replaces finishes the
// calls it started and is closed once they are done. A version that fails
// a step is refused, and the previous one keeps serving. Host.Status says,
// per module, which version runs and how its last activation went.
//
// Every wazero type stays inside this package.
package plugins
