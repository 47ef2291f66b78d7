// Command go-sleep is a test policy module built with Go (wasip1): its
// policy logs "going to sleep", sleeps for an hour with time.Sleep (which
// Go's runtime turns into WASI poll_oneoff), then accepts the request
// unchanged. The plugins tests build it when they run.
package main

import (
	"time"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/policy"
)

func init() { policy.Handle(sleep) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

func sleep(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
	registrar.Log(registrar.LevelInfo, "going to sleep")
	time.Sleep(time.Hour)
	return &registrar.PolicyOutput{Metadata: in.Metadata}, nil
}
