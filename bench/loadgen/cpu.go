package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100 on
// every architecture Linux runs Go on.
const userHZ = 100

// proc is a process whose CPU use is reported.
type proc struct {
	name string
	pid  string // a number, or "self"
}

// parseProcs parses the -cpu flag, name=pid,...; the load generator itself
// comes last.
func parseProcs(s string) ([]proc, error) {
	var procs []proc
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			continue
		}
		name, pid, ok := strings.Cut(item, "=")
		if _, err := strconv.Atoi(pid); !ok || name == "" || err != nil {
			return nil, fmt.Errorf("-cpu %q: want name=pid,name=pid", s)
		}
		procs = append(procs, proc{name, pid})
	}
	return append(procs, proc{"loadgen", "self"}), nil
}

// cpuTime returns the user plus system CPU time a process has used, from
// /proc/<pid>/stat (fields 14 and 15), or an error where there is no /proc.
func cpuTime(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("malformed stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed stat")
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// sampleCPU reads the CPU time of each process; -1 where it cannot.
func sampleCPU(procs []proc) []time.Duration {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		d, err := cpuTime(p.pid)
		if err != nil {
			d = -1
		}
		out[i] = d
	}
	return out
}

// cpuUse is the CPU a process used over the measured period, in percent
// of one core; negative when unknown.
type cpuUse struct {
	name string
	pct  float64
}

func (u cpuUse) percent() string {
	if u.pct < 0 {
		return "?"
	}
	return strconv.FormatFloat(u.pct, 'f', 0, 64)
}

func cpuUses(procs []proc, before, after []time.Duration, elapsed time.Duration) []cpuUse {
	out := make([]cpuUse, len(procs))
	for i, p := range procs {
		out[i] = cpuUse{p.name, -1}
		if before[i] >= 0 && after[i] >= 0 {
			out[i].pct = 100 * float64(after[i]-before[i]) / float64(elapsed)
		}
	}
	return out
}
