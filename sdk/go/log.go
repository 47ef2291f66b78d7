package registrar

// Level is the severity of a log line.
type Level int32

// The levels of sdk/ABI.md §3.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

// Log writes one line to Registrar's log, tagged with the module's name,
// version and tenant. Registrar keeps at most 1,024 bytes of a line and a
// few dozen lines per call.
func Log(level Level, msg string) { hostLog(level, msg) }
