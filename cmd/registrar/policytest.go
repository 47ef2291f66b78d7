package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/plugins"
)

// testOptions are the flags of policy test.
type testOptions struct {
	cases   []string
	watch   bool
	every   time.Duration
	verbose bool
}

func policyTestCmd(e env) *cobra.Command {
	var o testOptions
	cmd := &cobra.Command{
		Use:   "test MODULE.wasm [--cases FILE]...",
		Short: "Run a module's self-test cases and case files offline; exit 1 on any failure",
		Long: `Loads a module as the server would and runs, one by one, the self-test cases
it ships in its registrar.cases section, those of <name>.cases.json beside it
(the policy folder's side file), and those of every --cases file (the format
of sdk/ABI.md §7: inputs with the expected output, rejection code or
failure). Prints ok or FAIL per case with the difference, and exits 1 when
any case fails. --watch runs again whenever the module or a case file
changes, until interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.every <= 0 {
				return usageError{"--every must be positive"}
			}
			if !o.watch {
				return policyTest(cmd.Context(), args[0], o, e)
			}
			return watchFiles(cmd.Context(), append([]string{args[0]}, o.cases...), o.every, func() {
				if err := policyTest(cmd.Context(), args[0], o, e); err != nil {
					fmt.Fprintln(e.stdout, "registrar:", err)
				}
				fmt.Fprintln(e.stdout, "(watching for changes; interrupt to stop)")
			})
		},
	}
	cmd.Flags().StringArrayVar(&o.cases, "cases", nil, "a case file (sdk/ABI.md §7); repeatable")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "run again whenever the module or a case file changes")
	cmd.Flags().DurationVar(&o.every, "every", 500*time.Millisecond, "how often --watch looks for changes")
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "print the module's log lines")
	return cmd
}

// caseSet is a named source of cases.
type caseSet struct {
	from  string
	cases *plugins.Cases
}

// policyTest runs every case of the module once.
func policyTest(ctx context.Context, path string, o testOptions, e env) error {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sets, err := collectCases(path, wasm, o.cases)
	if err != nil {
		return err
	}
	logOut := io.Discard
	if o.verbose {
		logOut = e.stderr
	}
	m, err := plugins.Load(ctx, wasm, plugins.LoadOptions{
		Name:      strings.TrimSuffix(filepath.Base(path), ".wasm"),
		Logger:    slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SkipCases: true,
	})
	if err != nil {
		return fmt.Errorf("refused: %w", err)
	}
	defer m.Close(ctx)
	passed, failed := runCaseSets(ctx, m, sets, e)
	fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return errors.New("cases failed")
	}
	return nil
}

// collectCases gathers the module's embedded cases, its side file's and
// those of the given case files.
func collectCases(path string, wasm []byte, files []string) ([]caseSet, error) {
	var sets []caseSet
	embedded, err := plugins.EmbeddedCases(wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if embedded != nil {
		sets = append(sets, caseSet{path + " (" + plugins.CasesSection + ")", embedded})
	}
	side := strings.TrimSuffix(path, ".wasm") + ".cases.json"
	if _, err := os.Stat(side); err == nil {
		files = append([]string{side}, files...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--cases: %w", err)
		}
		cs, err := plugins.ParseCases(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		sets = append(sets, caseSet{f, cs})
	}
	if len(sets) == 0 {
		return nil, usageError{fmt.Sprintf("%s has no cases: ship a %s section, put %s beside it, or pass --cases FILE", path, plugins.CasesSection, filepath.Base(side))}
	}
	return sets, nil
}

// runCaseSets runs each case on its own and prints ok or FAIL for it.
func runCaseSets(ctx context.Context, m *plugins.Module, sets []caseSet, e env) (passed, failed int) {
	for _, set := range sets {
		if err := checkHooks(m, set.cases); err != nil {
			failed++
			fmt.Fprintf(e.stdout, "FAIL %s: %v\n", set.from, err)
		}
		for _, c := range set.cases.Cases {
			one := &plugins.Cases{Input: set.cases.Input, Cases: []plugins.Case{c}}
			if err := m.RunCases(ctx, one); err != nil {
				failed++
				fmt.Fprintf(e.stdout, "FAIL %s (%s)\n     %v\n", c.Name, set.from, err)
				continue
			}
			passed++
			fmt.Fprintf(e.stdout, "ok   %s\n", c.Name)
		}
	}
	return passed, failed
}

// checkHooks compares the hooks a case file names with the module's.
func checkHooks(m *plugins.Module, cs *plugins.Cases) error {
	if len(cs.Hooks) == 0 {
		return nil
	}
	return m.RunCases(context.Background(), &plugins.Cases{Hooks: cs.Hooks})
}

// watchFiles calls fn at once and again each time one of the files
// changes (its size or modification time), until ctx ends.
func watchFiles(ctx context.Context, files []string, every time.Duration, fn func()) error {
	stamp := func() string {
		var b strings.Builder
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				fmt.Fprintf(&b, "%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
			} else {
				fmt.Fprintf(&b, "%s:missing;", f)
			}
		}
		return b.String()
	}
	last := stamp()
	fn()
	return tick(ctx, every, func() {
		if s := stamp(); s != last {
			last = s
			fn()
		}
	})
}
