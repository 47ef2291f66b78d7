// Package plugins owns the lifecycle of Registrar's policy modules
// (sdk/ABI.md): it loads them from their sources, self-tests them, decides
// which version of each serves which tenant, and runs their hooks. Host
// implements engine.Modules, so the registration pipeline calls modules by
// tenant and name without knowing they are WebAssembly. The runtime that
// checks, compiles, pools and sandboxes one module is
// plugins/internal/wasm.
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
// Every wazero type stays inside plugins/internal/wasm.
package plugins
