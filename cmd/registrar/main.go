// Command registrar is the Registrar binary: the Dynamic Client
// Registration provider (registrar serve), the client side of registration
// (registrar register), and helpers that call the admin API (registrar iat
// create). Run "registrar help" for usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Registrar: an OAuth 2.0 / OpenID Connect Dynamic Client Registration provider.

Usage:
  registrar serve [flags]       run the provider (see "registrar serve -h")
  registrar register [flags]    register a client with any RFC 7591 provider
  registrar iat create [flags]  mint an initial access token through the admin API
  registrar policy inspect|run  inspect a policy module, or run one of its hooks locally
  registrar version             print the version
`

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
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "registrar:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage errors and 1 for everything else.
func exitCode(err error) int {
	var u usageError
	if errors.Is(err, flag.ErrHelp) || errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return usageError{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, e)
	case "register":
		return register(ctx, rest, e)
	case "iat":
		if len(rest) == 0 || rest[0] != "create" {
			return usageError{`usage: registrar iat create [flags]`}
		}
		return iatCreate(ctx, rest[1:], e)
	case "policy":
		return policyCmd(ctx, rest, e)
	case "version", "--version", "-version":
		fmt.Fprintln(e.stdout, "registrar", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return nil
	default:
		fmt.Fprint(e.stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
