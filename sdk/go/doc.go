// Package registrar is the Go SDK for Registrar policy modules: it holds
// the types of the hooks' input and output documents, typed access to
// client metadata, rejections, logging and randomness, and hides the
// memory, allocator and JSON plumbing of the module ABI (sdk/ABI.md).
//
// A module registers its hooks with the Handle function of one package per
// hook, from an init function or a package-level variable initialiser
// (main never runs in a module built with -buildmode=c-shared):
//
//	import (
//		registrar "github.com/registrar-dev/registrar/sdk/go"
//		"github.com/registrar-dev/registrar/sdk/go/policy"
//	)
//
//	func init() { policy.Handle(check) }
//
//	func check(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
//		if !in.Metadata.Has("client_name") {
//			in.Metadata.SetString("client_name", "Unnamed client")
//		}
//		return &registrar.PolicyOutput{Metadata: in.Metadata}, nil
//	}
//
//	func main() {}
//
// The hook packages are policy, idfactory, secretfactory, issuetoken and
// rotatetoken. Importing one is what makes the module export that hook, so
// a module exports exactly the hooks it handles.
//
// Build with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o policy.wasm .
//
// Time, randomness and logging have one way each (sdk/ABI.md §3): the
// input's Now, Random and Log. time.Now, crypto/rand and printing also
// work in a module, through WASI, but are deprecated for policy code.
//
// Outside WebAssembly the package also builds, so that a policy's logic
// can be tested with go test: Log writes to standard error and Random
// reads crypto/rand.
package registrar
