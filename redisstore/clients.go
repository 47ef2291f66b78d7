package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// errKeyChanged is returned when an UpdateClient fn changes the client's
// tenant or ID.
var errKeyChanged = errors.New("redisstore: UpdateClient fn changed the client's tenant or ID")

// CreateClient stores c and consumes a use of the initial access token
// c.IssuedBy names, if any, in one atomic script that also checks the
// tenant's tombstone and quota, and appends opts.Audit to the tenant's
// audit log.
func (s *Store) CreateClient(ctx context.Context, c *engine.Client, opts engine.CreateOptions) error {
	k, ok := s.tenantKeys(c.Tenant)
	if !ok {
		return errInvalidTenant(c.Tenant)
	}
	if opts.MaxClients < 0 {
		return fmt.Errorf("redisstore: CreateOptions.MaxClients %d is negative", opts.MaxClients)
	}
	// Called directly: json.Marshal would check and copy the record once
	// more, which costs more than writing it.
	rec, err := c.MarshalJSON()
	if err != nil {
		return fmt.Errorf("redisstore: encode client: %w", err)
	}
	var event []byte
	if opts.Audit != nil {
		if opts.Audit.Tenant != c.Tenant {
			return fmt.Errorf("redisstore: CreateOptions.Audit is an event of tenant %q, not of the client's %q", opts.Audit.Tenant, c.Tenant)
		}
		if event, err = encodeAudit(opts.Audit); err != nil {
			return err
		}
	}
	ks := []string{k.client(c.ID), k.tombstone(), k.audit()}
	for _, m := range opts.Marks {
		ks = append(ks, k.mark(m.Key))
	}
	if c.IssuedBy != "" {
		ks = append(ks, k.token(c.IssuedBy))
	}
	rep := "0"
	if opts.Replace {
		rep = "1"
	}
	unique := ""
	if opts.UniqueSoftwareID && c.Metadata.SoftwareID != "" {
		unique = softwareFilter(c.Metadata.SoftwareID)
	}
	args := []any{k.base, rec, c.ID, strconv.FormatInt(expireAt(c.ExpiresAt), 10), rep,
		strconv.Itoa(opts.MaxClients), pruneOnWrite, unique, event, s.auditMaxLen, strconv.Itoa(len(opts.Marks))}
	for _, m := range opts.Marks {
		args = append(args, strconv.FormatInt(max(expireAt(m.Until), 1), 10)) // no time is no life
	}
	args = append(args, clientFilters(c)...)
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := createClient.Run(s.durable(octx), s.rdb, ks, args...).Text()
	if err != nil {
		return s.fail(ctx, "create client", err)
	}
	if i, ok := strings.CutPrefix(status, "REPLAYED:"); ok {
		if n, err := strconv.Atoi(i); err == nil && n >= 1 && n <= len(opts.Marks) {
			return &engine.ReplayedError{Key: opts.Marks[n-1].Key}
		}
	}
	return createStatus(status)
}

// createStatus turns the reply of the createClient script into the
// store's error.
func createStatus(status string) error {
	switch status {
	case "OK":
		return nil
	case "EXISTS":
		return engine.ErrAlreadyExists
	case "NO_TOKEN":
		return fmt.Errorf("initial access token: %w", engine.ErrNotFound)
	case "EXHAUSTED":
		return engine.ErrTokenExhausted
	case "SOFTWARE_TAKEN":
		return engine.ErrSoftwareIDTaken
	case "QUOTA":
		return engine.ErrQuotaExceeded
	case "NO_TENANT":
		return engine.ErrNoTenant
	}
	return fmt.Errorf("redisstore: create client: unexpected reply %q", status)
}

// clientFilters returns the suffixes of the filter indexes c belongs in:
// that of the token that admitted it, that of its software_id, and those
// of the policy versions of its last History entry.
func clientFilters(c *engine.Client) []any {
	var fs []any
	if c.IssuedBy != "" {
		fs = append(fs, tokenFilter(c.IssuedBy))
	}
	if c.Metadata.SoftwareID != "" {
		fs = append(fs, softwareFilter(c.Metadata.SoftwareID))
	}
	if n := len(c.History); n > 0 {
		for _, v := range c.History[n-1].Policies {
			if f := policyFilter(v); v != (engine.PolicyVersion{}) && !slices.Contains(fs, any(f)) {
				fs = append(fs, f)
			}
		}
	}
	return fs
}

// Client returns the live client with that tenant and ID.
func (s *Store) Client(ctx context.Context, tenant, id string) (*engine.Client, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	rec, err := s.rdb.Get(octx, k.client(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "read client", err)
	}
	return decodeClient(rec)
}

// ClientAudited returns the live client with that tenant and ID and, if
// ratDigest is its registration token's digest, appends e to the tenant's
// audit stream in the same script (engine.AuditedClientReader): one round
// trip for an audited RFC 7592 read.
func (s *Store) ClientAudited(ctx context.Context, tenant, id, ratDigest string, e *engine.AuditEvent) (*engine.Client, bool, error) {
	if e.Tenant != tenant {
		return nil, false, fmt.Errorf("redisstore: ClientAudited: an event of tenant %q, not %q", e.Tenant, tenant)
	}
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, false, engine.ErrNotFound
	}
	if ratDigest == "" {
		c, err := s.Client(ctx, tenant, id)
		return c, false, err
	}
	event, err := encodeAudit(e)
	if err != nil {
		return nil, false, err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	reply, err := readClientAudited.Run(octx, s.rdb, []string{k.client(id), k.audit()}, ratDigest, event, s.auditMaxLen).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, false, engine.ErrNotFound
	}
	if err != nil {
		return nil, false, s.fail(ctx, "read client", err)
	}
	var (
		rec  string
		flag int64
	)
	if len(reply) == 2 {
		rec, _ = reply[0].(string)
		flag, _ = reply[1].(int64)
	}
	if rec == "" {
		return nil, false, fmt.Errorf("redisstore: read client: unexpected reply %v", reply)
	}
	c, err := decodeClient([]byte(rec))
	return c, flag == 1, err
}

var _ engine.AuditedClientReader = (*Store)(nil)

// UpdateClient reads the client, applies fn to it and writes the result if
// the record has not changed since it was read; if it has, it starts over.
// Every writer makes progress through the same compare-and-set, so a retry
// means that another update succeeded. fn may therefore run more than once.
func (s *Store) UpdateClient(ctx context.Context, tenant, id string, fn func(*engine.Client) error) (*engine.Client, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	ks := []string{k.client(id)}
	for {
		old, err := s.rdb.Get(octx, k.client(id)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, engine.ErrNotFound
		}
		if err != nil {
			return nil, s.fail(ctx, "read client for update", err)
		}
		c, err := decodeClient(old)
		if err != nil {
			return nil, err
		}
		if err := fn(c); err != nil {
			return nil, err
		}
		if c.Tenant != tenant || c.ID != id {
			return nil, errKeyChanged
		}
		rec, err := c.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("redisstore: encode client: %w", err)
		}
		args := append([]any{k.base, old, rec, id, strconv.FormatInt(expireAt(c.ExpiresAt), 10), pruneOnWrite},
			clientFilters(c)...)
		status, err := updateClient.Run(s.durable(octx), s.rdb, ks, args...).Text()
		if err != nil {
			return nil, s.fail(ctx, "update client", err)
		}
		switch status {
		case "OK":
			return c, nil
		case "NOT_FOUND":
			return nil, engine.ErrNotFound
		case "CONFLICT":
			continue // another write came first: apply fn to its result
		}
		return nil, fmt.Errorf("redisstore: update client: unexpected reply %q", status)
	}
}

// DeleteClient removes the client record, and with it its registration
// access token, and its index entries.
func (s *Store) DeleteClient(ctx context.Context, tenant, id string) error {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := deleteClient.Run(s.durable(octx), s.rdb, []string{k.client(id)}, k.base, id).Text()
	if err != nil {
		return s.fail(ctx, "delete client", err)
	}
	return scriptStatus("delete client", status)
}

// Clients lists a page of the tenant's live clients that pass filter,
// ordered by ID. With a filter it reads the filter index of the
// software_id, or else of the token, or else of the policy version, and checks each client against the record;
// it calls the listing script again, from where it stopped, until the page
// is full or the index ends, so a page is short only when it is the last.
func (s *Store) Clients(ctx context.Context, tenant string, filter engine.ClientFilter, after string, limit int) ([]*engine.Client, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("redisstore: Clients limit %d is not positive", limit)
	}
	if (filter.Policy.Name == "") != (filter.Policy.Digest == "") {
		return nil, "", fmt.Errorf("redisstore: ClientFilter.Policy %q: set both Name and Digest, or neither", filter.Policy.String())
	}
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, "", nil
	}
	index, kind := k.clients(), "all"
	switch {
	case filter.SoftwareID != "":
		index, kind = k.filterIndex(softwareFilter(filter.SoftwareID)), "software"
	case filter.IssuedBy != "":
		index, kind = k.filterIndex(tokenFilter(filter.IssuedBy)), "token"
	case filter.Policy != (engine.PolicyVersion{}):
		index, kind = k.filterIndex(policyFilter(filter.Policy)), "policy"
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	// One more than the page, to learn whether a matching client follows.
	var found []*engine.Client
	for cursor := after; len(found) <= limit; {
		reply, err := listClients.Run(octx, s.rdb, []string{index},
			k.base, cursor, strconv.Itoa(limit+1-len(found)), listBudget, pruneOnList,
			kind, filter.IssuedBy, filter.Policy.Name, filter.Policy.Digest, filter.SoftwareID).StringSlice()
		if err != nil {
			return nil, "", s.fail(ctx, "list clients", err)
		}
		for _, rec := range reply[2:] {
			c, err := decodeClient([]byte(rec))
			if err != nil {
				return nil, "", err
			}
			if filter.Match(c) {
				found = append(found, c)
			}
		}
		if reply[0] == "1" {
			break
		}
		cursor = reply[1]
	}
	return pageOf(found, limit, func(c *engine.Client) string { return c.ID })
}

// pageOf cuts a listing of up to limit+1 records to a page of limit and
// names its cursor: the ID of its last record when a record follows it.
func pageOf[T any](found []T, limit int, id func(T) string) ([]T, string, error) {
	if len(found) <= limit {
		return found, "", nil
	}
	return found[:limit], id(found[limit-1]), nil
}

// decodeClient decodes a client record. UnmarshalJSON is called directly:
// json.Unmarshal would scan the record once more before it, and
// UnmarshalJSON checks what it reads (or leaves it to encoding/json).
func decodeClient(rec []byte) (*engine.Client, error) {
	var c engine.Client
	if err := c.UnmarshalJSON(rec); err != nil {
		return nil, fmt.Errorf("redisstore: decode client record: %w", err)
	}
	return &c, nil
}
