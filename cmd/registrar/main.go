// Command registrar is the Registrar binary: the Dynamic Client
// Registration provider (registrar serve), the client side (registrar
// register, registrar token), the policy author's tools (registrar policy run,
// test, inspect) and the operator's commands over the admin API (tenants,
// initial access tokens, clients, policies, admin tokens, audit). Run
// "registrar --help" for usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// env is the environment as the commands see it; tests replace it.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	if err := run(ctx, os.Args[1:], e); err != nil {
		var r rejected
		if !errors.As(err, &r) {
			fmt.Fprintln(os.Stderr, "registrar:", err)
		}
		os.Exit(exitCode(err))
	}
}

// The exit codes: 0 success, 1 an error, 2 a mistake in the command line,
// 3 a policy that rejected its input (registrar policy run and test).
const (
	exitError    = 1
	exitUsage    = 2
	exitRejected = 3
)

// exitCode maps an error of run to the process's exit code.
func exitCode(err error) int {
	var u usageError
	var r rejected
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &r):
		return exitRejected
	}
	return exitError
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// rejected is the outcome of a policy that refused its input: not a
// failure of the tool, but scripts need to tell it from acceptance.
type rejected struct{ msg string }

func (r rejected) Error() string { return r.msg }

// run executes the command line args.
func run(ctx context.Context, args []string, e env) error {
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && isCobraUsageError(err) {
		return usageError{err.Error()}
	}
	return err
}

// isCobraUsageError reports errors cobra itself returns for a command line
// it cannot parse (its errors have no type of their own).
func isCobraUsageError(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag: ", "unknown shorthand flag: ", "required flag(s) ", "accepts ", "requires at least ", "requires at most ", "flag needs an argument", "invalid argument "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// newRootCmd builds the command tree.
func newRootCmd(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "registrar",
		Short: "An OAuth 2.0 / OpenID Connect Dynamic Client Registration provider",
		Long: `Registrar is an OAuth 2.0 / OpenID Connect Dynamic Client Registration provider
(RFC 7591, RFC 7592, OpenID Connect DCR 1.0) whose policies are sandboxed
WebAssembly modules.

Exit codes: 0 success; 1 an error; 2 a mistake in the command line;
3 a policy rejected its input (policy run, policy test).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// A bare "registrar" prints the usage and is a usage error.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_ = cmd.Usage()
			return usageError{"no command given"}
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Sprintf("%s: %v", c.CommandPath(), err)}
	})
	root.AddGroup(
		&cobra.Group{ID: "run", Title: "Running the provider:"},
		&cobra.Group{ID: "admin", Title: "Operating it (admin API):"},
		&cobra.Group{ID: "client", Title: "Client side:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("run", serveCmd(e), configCmd(e), versionCmd(e))
	add("admin", tenantCmd(e), iatCmd(e), clientCmd(e), policyCmd(e), adminTokenCmd(e), keysCmd(e), auditCmd(e))
	add("client", registerCmd(e), tokenCmd(e))
	root.SetHelpCommandGroupID("run")
	root.SetCompletionCommandGroupID("run")
	return root
}

func versionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (release, VCS revision and build time)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(e.stdout, "registrar", version())
			return nil
		},
	}
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(e env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}
