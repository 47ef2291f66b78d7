package adminapi

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// FuzzCursor: a cursor from a client never panics the listing; a cursor
// the listing accepts names a key the listing could have, and the cursor
// the listing would write for that key is accepted as the same key.
func FuzzCursor(f *testing.F) {
	f.Add(nextCursor(listClients, "sEODA9YSDOjoohcwOa_7Z"))
	f.Add(nextCursor(listTenants, "acme"))
	f.Add("not-a-cursor!")
	f.Add("Y2xpZW50czo")
	f.Fuzz(func(t *testing.T, cursor string) {
		read := func(c string) (string, error) {
			r := httptest.NewRequest("GET", "/admin/tenants/acme/clients?cursor="+url.QueryEscape(c), nil)
			after, _, err := pageParams(r, listClients, engine.ValidClientID)
			return after, err
		}
		after, err := read(cursor)
		if err != nil || cursor == "" {
			return
		}
		if !engine.ValidClientID(after) {
			t.Fatalf("cursor %q gave key %q, which the listing could not have", cursor, after)
		}
		again, err := read(nextCursor(listClients, after))
		if err != nil || again != after {
			t.Fatalf("key %q: its own cursor reads as %q, %v", after, again, err)
		}
	})
}
