//go:build !wasip1

package registrar

import (
	"crypto/rand"
	"os"
)

// Outside WebAssembly, for tests: the log is standard error and randomness
// comes from crypto/rand.

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR"}

func hostLog(level Level, msg string) {
	name := "LEVEL"
	if level >= 0 && int(level) < len(levelNames) {
		name = levelNames[level]
	}
	_, _ = os.Stderr.WriteString("registrar: " + name + " " + msg + "\n")
}

func hostRandom(b []byte) { _, _ = rand.Read(b) }
