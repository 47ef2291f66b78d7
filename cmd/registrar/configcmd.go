package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/plugins"
)

func configCmd(e env) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check a tenant configuration file", Args: cobra.NoArgs}
	var policyDir, redisURL string
	validate := &cobra.Command{
		Use:   "validate FILE",
		Short: "Run the checks serve runs at start-up on a configuration file",
		Long: `Reads a configuration file as serve --config does and runs the same checks:
YAML or JSON syntax, unknown settings, every tenant's settings (names,
durations, client defaults, supported values), the policy limits, and that
every policy module a tenant names exists in --policy-dir or, with
--redis-url, among the modules uploaded to the store. Every error names the
file, the line, the tenant and the setting. Exits 0 when the file is good.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := validateConfig(cmd.Context(), args[0], policyDir, redisURL)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: ok (%d tenants)\n", args[0], n)
			return nil
		},
	}
	validate.Flags().StringVar(&policyDir, "policy-dir", e.getenv("REGISTRAR_POLICY_DIR"), "folder of .wasm policy modules the tenants may name (env REGISTRAR_POLICY_DIR)")
	validate.Flags().StringVar(&redisURL, "redis-url", e.getenv("REGISTRAR_REDIS_URL"), "Redis URL whose uploaded policy modules the tenants may name (env REGISTRAR_REDIS_URL)")
	cmd.AddCommand(validate)
	return cmd
}

// validateConfig runs serve's start-up checks on a configuration file and
// returns the number of tenants it defines.
func validateConfig(ctx context.Context, path, policyDir, redisURL string) (int, error) {
	fc, err := loadConfig(path)
	if err != nil {
		return 0, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, closeStore, err := openStore(ctx, redisURL, redisWait, quiet)
	if err != nil {
		return 0, err
	}
	defer closeStore()
	h, err := plugins.New(ctx, plugins.Config{Dir: policyDir, Store: store, Limits: fc.PolicyLimits.limits(), Logger: quiet})
	if err != nil {
		return 0, fmt.Errorf("--policy-dir: %w", err)
	}
	defer h.Close(context.WithoutCancel(ctx))
	// Issuers' key sets are checked, not fetched; without the serve
	// flags, --fetch-allow-hosts exempts nothing here.
	client, err := fetch.New(fetch.Config{})
	if err != nil {
		return 0, err
	}
	sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: client})
	if err != nil {
		return 0, err
	}
	statements, err := jose.NewStatements(jose.StatementsConfig{KeySets: sets, CheckURL: client.CheckURL})
	if err != nil {
		return 0, err
	}
	uris, err := jose.NewClientURIs(jose.ClientURIsConfig{Fetcher: client, KeySets: sets})
	if err != nil {
		return 0, err
	}
	if err := fc.check(h, statements, uris); err != nil {
		return 0, err
	}
	return len(fc.Tenants), nil
}
