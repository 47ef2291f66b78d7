//go:build !linux

package redistest

import "syscall"

// sysProcAttr is nil where the kernel cannot kill children with their
// parent: the test's cleanups stop the servers.
func sysProcAttr() *syscall.SysProcAttr { return nil }
