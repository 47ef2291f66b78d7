package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

// fileConfig is the --config file: YAML or JSON (JSON is YAML). Unknown
// keys are refused, so a misspelt setting fails start-up instead of being
// ignored.
type fileConfig struct {
	// Tenants maps tenant names to their settings (engine.Settings).
	Tenants map[string]engine.Settings `json:"tenants"`
	// PolicyLimits bound every policy module (plugins.Limits).
	PolicyLimits policyLimits `json:"policy_limits"`
}

// policyLimits is plugins.Limits as the config file writes it, with
// durations as "100ms" or ISO 8601.
type policyLimits struct {
	Timeout             engine.Duration `json:"timeout"`
	MemoryMiB           uint32          `json:"memory_mib"`
	MaxInputKiB         int             `json:"max_input_kib"`
	MaxOutputKiB        int             `json:"max_output_kib"`
	MaxInstances        int             `json:"max_instances"`
	MaxIdle             int             `json:"max_idle"`
	InstantiateTimeout  engine.Duration `json:"instantiate_timeout"`
	MaxCallsPerInstance int             `json:"max_calls_per_instance"`
	TenantCalls         int             `json:"tenant_calls"`
	TenantWait          engine.Duration `json:"tenant_wait"`
}

func (l policyLimits) limits() plugins.Limits {
	return plugins.Limits{
		Timeout:             time.Duration(l.Timeout),
		MemoryPages:         l.MemoryMiB * 16, // 16 pages of 64 KiB per MiB
		MaxInput:            l.MaxInputKiB << 10,
		MaxOutput:           l.MaxOutputKiB << 10,
		MaxInstances:        l.MaxInstances,
		MaxIdle:             l.MaxIdle,
		InstantiateTimeout:  time.Duration(l.InstantiateTimeout),
		MaxCallsPerInstance: l.MaxCallsPerInstance,
		TenantCalls:         l.TenantCalls,
		TenantWait:          time.Duration(l.TenantWait),
	}
}

// loadConfig reads the configuration file; no file means only the default
// tenant, with default settings, and default limits.
func loadConfig(path string) (fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return fc, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("--config: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &fc); err != nil {
		return fc, fmt.Errorf("--config %s: %w", path, err)
	}
	return fc, nil
}

// openModules loads the policy folder, or returns nil when there is none.
// Compiled code is cached under the data folder when there is one, so that
// restarts do not compile again.
// openModules returns the policy host: the modules of the policy folder
// (watched for changes) and those uploaded through the admin API to store.
// cfg brings the observers; the rest of it is filled in here.
func openModules(ctx context.Context, c *serveConfig, fc fileConfig, store engine.PolicyStore, cfg plugins.Config, log *slog.Logger) (*plugins.Host, error) {
	cfg.Dir, cfg.Watch, cfg.Store = c.policyDir, c.policyDir != "", store
	cfg.Limits, cfg.Logger = fc.PolicyLimits.limits(), log
	if c.dataDir != "" {
		cfg.CacheDir = filepath.Join(c.dataDir, "wasm-cache")
		if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("--data-dir: %w", err)
		}
	}
	h, err := plugins.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("--policy-dir: %w", err)
	}
	return h, nil
}

// The policy host is what the admin API manages policies through.
var _ adminapi.Policies = (*plugins.Host)(nil)
