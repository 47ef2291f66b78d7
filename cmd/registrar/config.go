package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
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

	// path and lines say where each setting is, for errors.
	path  string
	lines map[string]int
}

// check runs serve's start-up checks of every tenant: its settings, and
// that every policy module it names exists among modules.
func (fc fileConfig) check(modules engine.Modules) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return fc.checkTenants(func(ts map[string]engine.Settings) error {
		reg, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, Modules: modules, Tenants: ts, Logger: quiet})
		if err != nil {
			return err
		}
		if err := reg.CheckModules(); err != nil {
			return fmt.Errorf("%w (a module must be in --policy-dir or uploaded to the store)", err)
		}
		return nil
	})
}

// checkTenants runs the engine's checks of each tenant's settings on its
// own, so that an error names the file, the line, the tenant and, where
// the engine's message starts with one, the setting.
func (fc fileConfig) checkTenants(check func(map[string]engine.Settings) error) error {
	for _, name := range slices.Sorted(maps.Keys(fc.Tenants)) {
		err := check(map[string]engine.Settings{name: fc.Tenants[name]})
		if err == nil {
			continue
		}
		msg := err.Error()
		for _, p := range []string{"engine: ", fmt.Sprintf("tenant %q: ", name)} {
			msg = strings.TrimPrefix(msg, p)
		}
		path := []string{"tenants", name}
		if setting, _, ok := strings.Cut(msg, ": "); ok {
			if _, known := fc.lines[strings.Join(append(slices.Clone(path), setting), ".")]; known {
				path = append(path, setting)
				msg = strings.TrimPrefix(msg, setting+": ")
			}
		}
		return fmt.Errorf("--config %s%w", fc.path, &configError{line: lineOf(path, fc.lines), path: path, msg: msg})
	}
	return nil
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
	}
}

// loadConfig reads the configuration file; no file means only the default
// tenant, with default settings, and default limits. The file is YAML 1.2
// (so "off" and "no" are strings, not booleans) or JSON; an error names the
// file, the line, the tenant and the setting.
func loadConfig(path string) (fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return fc, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("--config: %w", err)
	}
	fc.path, fc.lines = path, map[string]int{}
	if err := decodeConfig(b, &fc); err != nil {
		return fc, fmt.Errorf("--config %s%w", path, err)
	}
	return fc, nil
}

// configError is a mistake at a place in the configuration file.
type configError struct {
	line int
	path []string // JSON path of the setting: tenants, acme, client_defaults
	msg  string
}

func (e *configError) Error() string {
	var b strings.Builder
	if e.line > 0 {
		fmt.Fprintf(&b, ":%d", e.line)
	}
	b.WriteString(": ")
	if len(e.path) >= 2 && e.path[0] == "tenants" {
		fmt.Fprintf(&b, "tenant %q: ", e.path[1])
		if len(e.path) > 2 {
			fmt.Fprintf(&b, "%s: ", strings.Join(e.path[2:], "."))
		}
	} else if len(e.path) > 0 {
		fmt.Fprintf(&b, "%s: ", strings.Join(e.path, "."))
	}
	b.WriteString(e.msg)
	return b.String()
}

// decodeConfig decodes YAML or JSON into fc strictly (unknown keys are
// refused), turning the decoder's errors into configErrors with lines.
func decodeConfig(b []byte, fc *fileConfig) error {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(b, &root); err != nil {
		return &configError{line: yamlErrorLine(err), msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil // an empty file
	}
	lines := fc.lines
	v, err := nodeValue(root.Content[0], nil, lines)
	if err != nil {
		return err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return &configError{msg: err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	err = dec.Decode(fc)
	if err == nil {
		return nil
	}
	return locate(err, lines)
}

// nodeValue converts a YAML node to a JSON-ready value, recording the line
// of every mapping key by its dotted path.
func nodeValue(n *yamlv3.Node, path []string, lines map[string]int) (any, error) {
	switch n.Kind {
	case yamlv3.AliasNode:
		return nodeValue(n.Alias, path, lines)
	case yamlv3.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yamlv3.ScalarNode {
				return nil, &configError{line: k.Line, path: path, msg: "a key must be a plain string"}
			}
			if k.Tag == "!!merge" {
				return nil, &configError{line: k.Line, path: path, msg: "merge keys (<<) are not supported"}
			}
			p := append(slices.Clone(path), k.Value)
			if _, dup := m[k.Value]; dup {
				return nil, &configError{line: k.Line, path: p, msg: "set twice"}
			}
			lines[strings.Join(p, ".")] = k.Line
			val, err := nodeValue(v, p, lines)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yamlv3.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			val, err := nodeValue(c, append(slices.Clone(path), strconv.Itoa(i)), lines)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		return s, nil
	case yamlv3.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, &configError{line: n.Line, path: path, msg: err.Error()}
		}
		return v, nil
	}
	return nil, nil
}

// locate maps a JSON decoding error to the line of the setting it names.
func locate(err error, lines map[string]int) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		path := strings.Split(typeErr.Field, ".")
		return &configError{line: lineOf(path, lines), path: path, msg: fmt.Sprintf("want %s, not a %s", typeErr.Type, typeErr.Value)}
	}
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		field = strings.Trim(field, `"`)
		// The decoder does not say where: the first key of that name is.
		for p, line := range lines {
			if p == field || strings.HasSuffix(p, "."+field) {
				path := strings.Split(p, ".")
				return &configError{line: line, path: path[:len(path)-1], msg: fmt.Sprintf("unknown setting %q", field)}
			}
		}
		return &configError{msg: fmt.Sprintf("unknown setting %q", field)}
	}
	// Errors of a setting's own decoder (a duration, a decision) carry no
	// path; name the file at least.
	return &configError{msg: strings.TrimPrefix(msg, "json: ")}
}

// lineOf returns the line of the longest prefix of path that has one.
func lineOf(path []string, lines map[string]int) int {
	for i := len(path); i > 0; i-- {
		if l, ok := lines[strings.Join(path[:i], ".")]; ok {
			return l
		}
	}
	return 0
}

// yamlErrorLine reads "line N" out of a YAML syntax error.
func yamlErrorLine(err error) int {
	var te *yamlv3.TypeError
	if errors.As(err, &te) {
		return 0
	}
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(rest)
		}
		if n, err := strconv.Atoi(rest[:end]); err == nil {
			return n
		}
	}
	return 0
}

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
