package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/registrar-dev/registrar/engine"
)

// fileConfig is the --config file: YAML or JSON (JSON is YAML). Unknown
// keys are refused, so a misspelt setting fails start-up instead of being
// ignored.
type fileConfig struct {
	// Tenants maps tenant names to their settings (engine.Settings).
	Tenants map[string]engine.Settings `json:"tenants"`
}

// loadConfig reads the tenant configuration; no file means only the
// default tenant, with default settings.
func loadConfig(path string) (map[string]engine.Settings, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var fc fileConfig
	if err := yaml.UnmarshalStrict(b, &fc); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return fc.Tenants, nil
}
