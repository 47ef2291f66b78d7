package adminapi

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// The admin API's wire conventions, the same on every route:
//
//   - a time is a string in RFC 3339, in UTC, to the second
//     ("2026-12-04T12:15:00Z"); a time that may be unset is left out when
//     it is;
//   - a listing takes limit (1 to engine.MaxPageSize, default
//     DefaultPageSize) and cursor, and answers next_cursor while more
//     items follow; a cursor is opaque, and one the listing did not give
//     is 400 invalid_request;
//   - the initial access token that admitted a client is named
//     initial_access_token (its ID), in filters and in responses.

// timestamp is a time as the admin API writes it. Fields that may be unset
// carry omitzero, which leaves the zero time out.
type timestamp time.Time

// timeLayout is RFC 3339 in UTC to the second: the form every RFC 3339
// parser reads, jq's fromdate included.
const timeLayout = "2006-01-02T15:04:05Z"

// IsZero reports whether t is the zero time (for omitzero).
func (t timestamp) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON writes t in UTC, truncated to the second.
func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().Truncate(time.Second).AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// DefaultPageSize is the page size of listings without a limit.
const DefaultPageSize = 100

// The listings, as their cursors name them: a cursor of one listing is
// refused by every other.
const (
	listTenants     = "tenants"
	listIATs        = "initial-access-tokens"
	listClients     = "clients"
	listPolicies    = "policies"
	listAdminTokens = "admin-tokens"
	listAudit       = "audit"
)

// nextCursor is the cursor of the page that follows the item with key:
// the listing and the key, base64url-encoded. "" (no next page) for "".
func nextCursor(listing, key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(listing + ":" + key))
}

// pageParams reads a listing's limit and cursor: the key of the item the
// page starts after ("" for the first page), which valid checks.
func pageParams(r *http.Request, listing string, valid func(string) bool) (after string, limit int, err error) {
	q := r.URL.Query()
	limit = DefaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > engine.MaxPageSize {
			return "", 0, engine.Errorf(engine.CodeInvalidRequest, "limit must be a number between 1 and %d", engine.MaxPageSize)
		}
		limit = n
	}
	s := q.Get("cursor")
	if s == "" {
		return "", limit, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	key, ok := strings.CutPrefix(string(b), listing+":")
	if err != nil || !ok || key == "" || !valid(key) {
		return "", 0, engine.Errorf(engine.CodeInvalidRequest, "cursor %q is not one this listing gave: pass next_cursor as it came, or no cursor for the first page", truncate(s, 64))
	}
	return key, limit, nil
}

// page cuts the page of at most limit items that follow the key after
// from items, which are sorted by key, and the cursor of the next page.
// It pages listings that the engine answers in full.
func page[T any](items []T, key func(T) string, listing, after string, limit int) ([]T, string) {
	if after != "" {
		i, found := slices.BinarySearchFunc(items, after, func(t T, k string) int { return strings.Compare(key(t), k) })
		if found {
			i++
		}
		items = items[i:]
	}
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], nextCursor(listing, key(items[limit-1]))
}

// validDigest reports whether s is a token ID: a hex SHA-256.
func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// anyKey accepts every key: the store checks it (audit event IDs).
func anyKey(string) bool { return true }
