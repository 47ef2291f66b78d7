package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// auditField is the field of a stream entry that holds the event as JSON.
const auditField = "event"

// validStreamID reports whether id has the form of the stream entry IDs
// that serve as event IDs and cursors: milliseconds and a sequence number,
// each a 64-bit unsigned integer in decimal.
func validStreamID(id string) bool {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return false
	}
	// ParseUint in base 10 takes digits only: no sign, no underscores.
	_, errMS := strconv.ParseUint(ms, 10, 64)
	_, errSeq := strconv.ParseUint(seq, 10, 64)
	return errMS == nil && errSeq == nil
}

// auditKey returns the stream of a tenant's audit log: the tenant's own,
// or for tenant "" the process-wide one in the tag {_}.
func (s *Store) auditKey(tenant string) (string, bool) {
	if tenant == "" {
		return s.global().audit(), true
	}
	k, ok := s.tenantKeys(tenant)
	return k.audit(), ok
}

// AppendAudit appends e to its tenant's stream with XADD, trimming the
// stream to exactly Config.AuditMaxLen entries, and returns the entry's
// ID. e is not changed; its ID, if any, is not stored. A retried XADD
// (go-redis retries after a dropped connection) may store the event
// twice.
func (s *Store) AppendAudit(ctx context.Context, e *engine.AuditEvent) (string, error) {
	key, ok := s.auditKey(e.Tenant)
	if !ok {
		return "", errInvalidTenant(e.Tenant)
	}
	data, err := encodeAudit(e)
	if err != nil {
		return "", err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	id, err := s.rdb.XAdd(octx, &redis.XAddArgs{
		Stream: key,
		MaxLen: s.auditMaxLen,
		Values: []any{auditField, data},
	}).Result()
	if err != nil {
		return "", s.fail(ctx, "append audit event", err)
	}
	return id, nil
}

// encodeAudit returns the stored form of e: JSON, without its ID.
func encodeAudit(e *engine.AuditEvent) ([]byte, error) {
	c := *e
	c.ID = ""
	data, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode audit event: %w", err)
	}
	return data, nil
}

// AuditEvents reads a page of a tenant's events, newest first, with
// XREVRANGE from the cursor: inclusive, as Redis before 6.2 has no
// exclusive ranges, so it reads one entry more and skips the cursor's own.
// A cursor of an event since trimmed gives an empty page, as every event
// older than it was trimmed too.
func (s *Store) AuditEvents(ctx context.Context, tenant, before string, limit int) ([]*engine.AuditEvent, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("redisstore: AuditEvents limit %d is not positive", limit)
	}
	start := "+"
	if before != "" {
		if !validStreamID(before) {
			return nil, "", fmt.Errorf("redisstore: audit event ID %q: not an ID the log gave: %w", before, engine.ErrInvalidCursor)
		}
		start = before
	}
	key, ok := s.auditKey(tenant)
	if !ok {
		return nil, "", nil
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	// One more than the page, to learn whether older events follow, and
	// one more for the cursor's own entry.
	msgs, err := s.rdb.XRevRangeN(octx, key, start, "-", int64(limit)+2).Result()
	if err != nil {
		return nil, "", s.fail(ctx, "read audit events", err)
	}
	events := make([]*engine.AuditEvent, 0, min(len(msgs), limit+1))
	for _, m := range msgs {
		if m.ID == before || len(events) > limit {
			continue
		}
		data, _ := m.Values[auditField].(string)
		var e engine.AuditEvent
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return nil, "", fmt.Errorf("redisstore: decode audit event %s: %w", m.ID, err)
		}
		e.ID = m.ID
		events = append(events, &e)
	}
	return pageOf(events, limit, func(e *engine.AuditEvent) string { return e.ID })
}
