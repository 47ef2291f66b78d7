package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads, in JSON and YAML configuration,
// a Go duration ("90m", "24h"), an ISO 8601 duration ("PT2H", "P30D") or a
// number of seconds. It writes Go's form.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a string in either form or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	// json.Number also accepts a string holding a number ("3600"); only a
	// bare JSON number is a number of seconds.
	var n json.Number
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] != '"' && json.Unmarshal(b, &n) == nil && n != "" {
		secs, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || secs < 0 || secs > maxDurationSeconds {
			return fmt.Errorf("duration %s: want a whole, non-negative number of seconds", n)
		}
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string or a number of seconds")
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// maxDurationSeconds keeps durations well inside time.Duration's range
// (about 292 years).
const maxDurationSeconds = 200 * 365 * 24 * 3600

// parseDuration reads a Go duration ("1h30m") or an ISO 8601 duration of
// weeks, days, hours, minutes and seconds ("P1W", "P1DT12H", "PT0.5S").
// Years and months are refused: their length is not fixed. Negative
// durations are refused.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISODuration(s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a Go duration like \"24h\" or an ISO 8601 duration like \"PT24H\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

func parseISODuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("duration %q: not an ISO 8601 duration of the form PnWnDTnHnMnS", s)
	rest := strings.ToUpper(s[1:])
	if rest == "" || rest == "T" {
		return 0, bad
	}
	var total float64
	inTime := false
	units := "WD" // allowed designators, in order, before T
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return 0, bad
			}
			inTime, units, rest = true, "HMS", rest[1:]
			continue
		}
		secs, n, left, ok := durationTerm(rest, units)
		if !ok {
			return 0, bad
		}
		total += secs
		rest, units = rest[n:], left
	}
	if total > maxDurationSeconds {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return time.Duration(total * float64(time.Second)), nil
}

// unitSeconds are the seconds of each ISO 8601 duration designator.
var unitSeconds = map[byte]float64{'W': 7 * 24 * 3600, 'D': 24 * 3600, 'H': 3600, 'M': 60, 'S': 1}

// durationTerm reads one number and designator ("1.5H") at the start of
// rest: its seconds, the bytes it took, and the designators still allowed
// after it (each at most once, in order).
func durationTerm(rest, units string) (secs float64, n int, left string, ok bool) {
	i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
	if i <= 0 {
		return 0, 0, "", false
	}
	num, err := strconv.ParseFloat(strings.ReplaceAll(rest[:i], ",", "."), 64)
	if err != nil || num < 0 {
		return 0, 0, "", false
	}
	j := strings.IndexByte(units, rest[i])
	if j < 0 {
		return 0, 0, "", false
	}
	return num * unitSeconds[rest[i]], i + 1, units[j+1:], true
}

// timeDuration converts d for arithmetic with time.Time.
func timeDuration(d Duration) time.Duration { return time.Duration(d) }
