package plugins_test

import (
	"context"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

// TestTableGrowCapped: table.grow past max_table_elements fails (returns
// -1) even for a table that declares no maximum; the module sees exactly
// the documented default of 10,000 elements.
func TestTableGrowCapped(t *testing.T) {
	m := load(t, "table-cap", plugins.Limits{})
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
	if err != nil || string(out) != `{"metadata":{}}` {
		t.Fatalf("the table grew past the cap: %s %v", out, err)
	}
}

// TestTableLimitsAtLoad: a table declaring more than the cap is refused at
// load, and tables are charged to the memory budget.
func TestTableLimitsAtLoad(t *testing.T) {
	for _, c := range []struct {
		name   string
		limits plugins.Limits
		want   string // "" loads
	}{
		{"table-min", plugins.Limits{}, "declares 20000 elements, over the limit of 10000"},
		{"table-min", plugins.Limits{MaxTableElements: 20_000}, ""},
		{"table-many", plugins.Limits{}, ""},
		{"table-many", plugins.Limits{MaxTableElements: 5_000}, "over the limit of 5000"},
		{"table-many", plugins.Limits{MemoryPages: 10}, "its tables may take 640000 bytes"},
		// 640,000 bytes are 10 pages: 2 are left, and the module needs 2.
		{"table-many", plugins.Limits{MemoryPages: 12}, ""},
		{"table-many", plugins.Limits{MemoryPages: 11}, "over limit of 1 pages"},
	} {
		m, err := plugins.Load(context.Background(), fixture(t, c.name), plugins.LoadOptions{Name: c.name, Limits: c.limits, Logger: quiet()})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %+v: %v", c.name, c.limits, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %+v: %v, want %q", c.name, c.limits, err, c.want)
		}
		if err == nil {
			m.Close(context.Background())
		}
	}
}
