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
	"github.com/registrar-dev/registrar/idn"
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

// check runs serve's start-up checks of every tenant: its settings (a
// software_statement's issuers with statements), and that every policy
// module it names exists among modules.
func (fc fileConfig) check(modules engine.Modules, statements engine.StatementVerifier, uris engine.URIChecker) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return fc.checkTenants(func(ts map[string]engine.Settings) error {
		reg, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Modules: modules, Statements: statements, Secrets: settingsOnly{}, URIs: uris, Tenants: ts, Logger: quiet})
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
		return fmt.Errorf("--config %s%w", fc.path, settingError([]string{"tenants", name}, msg, fc.lines))
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
	MaxTableElements    uint32          `json:"max_table_elements"`
	MaxLogKiB           int             `json:"max_log_kib"`
	MaxLogKiBPerSecond  int             `json:"max_log_kib_per_second"`
	TenantCalls         int             `json:"tenant_calls"`
	TenantWait          engine.Duration `json:"tenant_wait"`
}

func (l policyLimits) limits() plugins.Limits {
	return plugins.Limits{
		Timeout:              time.Duration(l.Timeout),
		MemoryPages:          l.MemoryMiB * 16, // 16 pages of 64 KiB per MiB
		MaxInput:             l.MaxInputKiB << 10,
		MaxOutput:            l.MaxOutputKiB << 10,
		MaxInstances:         l.MaxInstances,
		MaxIdle:              l.MaxIdle,
		InstantiateTimeout:   time.Duration(l.InstantiateTimeout),
		MaxCallsPerInstance:  l.MaxCallsPerInstance,
		MaxTableElements:     l.MaxTableElements,
		MaxLogBytes:          l.MaxLogKiB << 10,
		MaxLogBytesPerSecond: l.MaxLogKiBPerSecond << 10,
		TenantCalls:          l.TenantCalls,
		TenantWait:           time.Duration(l.TenantWait),
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
	j, err := parseYAML(b, fc.lines)
	if err != nil || j == nil {
		return err
	}
	// Each tenant is decoded on its own, so that an error knows its tenant
	// (the decoder's paths leave map keys out).
	var top struct {
		Tenants      map[string]json.RawMessage `json:"tenants"`
		PolicyLimits json.RawMessage            `json:"policy_limits"`
	}
	if err := strictDecode(j, &top); err != nil {
		return locate(err, nil, fc.lines)
	}
	if top.PolicyLimits != nil {
		if err := strictDecode(top.PolicyLimits, &fc.PolicyLimits); err != nil {
			return locate(err, []string{"policy_limits"}, fc.lines)
		}
	}
	if top.Tenants != nil {
		fc.Tenants = make(map[string]engine.Settings, len(top.Tenants))
	}
	for name, raw := range top.Tenants {
		var s engine.Settings
		if err := strictDecode(raw, &s); err != nil {
			return locate(culprit(raw, err, func(one []byte) error { return strictDecode(one, &engine.Settings{}) }), []string{"tenants", name}, fc.lines)
		}
		fc.Tenants[name] = s
	}
	return nil
}

// culprit finds which member of the object raw fails decode when err, the
// error of the whole, does not say (a setting's own decoder rarely names
// it), and prefixes err's message with that member's name.
func culprit(raw json.RawMessage, err error, decode func([]byte) error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) || strings.Contains(err.Error(), "unknown field") {
		return err
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		one, _ := json.Marshal(map[string]json.RawMessage{k: members[k]})
		if e := decode(one); e != nil {
			return fmt.Errorf("%s: %s", k, strings.TrimPrefix(e.Error(), "json: "))
		}
	}
	return err
}

// strictDecode decodes JSON, refusing unknown members.
func strictDecode(j []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// yamlToJSON converts a YAML 1.2 (or JSON) document to JSON; an error
// names the line.
func yamlToJSON(b []byte) ([]byte, error) {
	j, err := parseYAML(b, map[string]int{})
	if err == nil && j == nil {
		return nil, &configError{msg: "empty document"}
	}
	return j, err
}

// parseYAML converts a YAML 1.2 (or JSON) document to JSON, recording the
// line of each mapping key in lines; an empty document is nil.
func parseYAML(b []byte, lines map[string]int) ([]byte, error) {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(b, &root); err != nil {
		return nil, &configError{line: yamlErrorLine(err), msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	v, err := nodeValue(root.Content[0], nil, lines)
	if err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, &configError{msg: err.Error()}
	}
	return j, nil
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

// locate maps a JSON decoding error inside the object at base to the
// line of the setting it names.
func locate(err error, base []string, lines map[string]int) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		path := append(slices.Clone(base), strings.Split(typeErr.Field, ".")...)
		return &configError{line: lineOf(path, lines), path: path, msg: fmt.Sprintf("want %s, not a %s", typeErr.Type, typeErr.Value)}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if field, ok := strings.CutPrefix(msg, "unknown field "); ok {
		field = strings.Trim(field, `"`)
		// The decoder does not say where: the first key of that name
		// under base is.
		prefix := strings.Join(base, ".")
		for _, p := range slices.Sorted(maps.Keys(lines)) {
			if (prefix == "" || strings.HasPrefix(p, prefix+".")) && (p == field || strings.HasSuffix(p, "."+field)) {
				path := strings.Split(p, ".")
				return &configError{line: lines[p], path: path[:len(path)-1], msg: fmt.Sprintf("unknown setting %q", field)}
			}
		}
		return &configError{line: lineOf(base, lines), path: base, msg: fmt.Sprintf("unknown setting %q", field)}
	}
	// A setting's own decoder (a duration, a mode) starts its message with
	// the setting's name.
	return settingError(base, msg, lines)
}

// settingError attributes msg to the setting under base that it starts
// with, if there is one.
func settingError(base []string, msg string, lines map[string]int) *configError {
	name := msg
	if i := strings.IndexAny(msg, " :"); i > 0 {
		name = msg[:i]
	}
	path := append(slices.Clone(base), name)
	if _, ok := lines[strings.Join(path, ".")]; ok {
		return &configError{line: lines[strings.Join(path, ".")], path: path, msg: strings.TrimLeft(strings.TrimPrefix(msg, name), ": ")}
	}
	return &configError{line: lineOf(base, lines), path: base, msg: msg}
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
