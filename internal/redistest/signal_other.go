//go:build !unix

package redistest

// Pause is not supported here: it fails the test.
func (s *Server) Pause() { s.t.Fatal("redistest: Pause needs a Unix system") }

// Resume is not supported here: it fails the test.
func (s *Server) Resume() { s.t.Fatal("redistest: Resume needs a Unix system") }
