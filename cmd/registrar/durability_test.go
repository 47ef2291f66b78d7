package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/redisstore"
)

// TestDurabilityFlags: the replication wait flags are parsed and checked,
// each error naming its flag.
func TestDurabilityFlags(t *testing.T) {
	for _, tc := range []struct {
		replicas, timeout, url string
		want                   string // "" for no error
	}{
		{"0", "1s", "", ""},
		{"1", "250ms", "redis://127.0.0.1", ""},
		{"-1", "1s", "redis://127.0.0.1", "--redis-wait-replicas"},
		{"x", "1s", "redis://127.0.0.1", "--redis-wait-replicas"},
		{"1", "0s", "redis://127.0.0.1", "--redis-wait-timeout"},
		{"1", "soon", "redis://127.0.0.1", "--redis-wait-timeout"},
		{"1", "1s", "", "needs --redis-url"},
	} {
		d := &durabilityFlags{waitReplicasS: tc.replicas, waitTimeoutS: tc.timeout}
		err := d.check(tc.url)
		var usage usageError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc, err)
		case tc.want != "" && (!errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want a usage error saying %q", tc, err, tc.want)
		}
	}
	d := &durabilityFlags{waitReplicasS: "2", waitTimeoutS: "300ms"}
	if err := d.check("redis://127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	o := d.openOptions(time.Second, nil)
	if o.WaitReplicas != 2 || o.WaitTimeout != 300*time.Millisecond || o.Wait != time.Second {
		t.Errorf("openOptions = %+v", o)
	}
	o.ObserveWait(redisstoreWait(time.Millisecond)) // no metrics yet: ignored
	var got []string
	f := func(_ time.Duration, outcome string) { got = append(got, outcome) }
	d.observe.Store(&f)
	o.ObserveWait(redisstoreWait(time.Millisecond))
	if len(got) != 1 || got[0] != "acked" {
		t.Errorf("observed %v", got)
	}
}

func redisstoreWait(d time.Duration) redisstore.ReplicationWait {
	return redisstore.ReplicationWait{Duration: d, Outcome: redisstore.WaitAcked}
}
