//go:build unix

package redistest

import "syscall"

// Pause stops the server with SIGSTOP, as a hung machine would: it keeps
// its connections and its port but answers nothing until Resume.
func (s *Server) Pause() {
	if s.proc != nil {
		_ = s.proc.Process.Signal(syscall.SIGSTOP)
	}
}

// Resume continues a server that Pause stopped.
func (s *Server) Resume() {
	if s.proc != nil {
		_ = s.proc.Process.Signal(syscall.SIGCONT)
	}
}
