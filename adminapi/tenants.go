package adminapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// tenantView is a tenant as the admin API shows it.
type tenantView struct {
	Name     string `json:"name"`
	Issuer   string `json:"issuer"`
	Source   string `json:"source"`
	Revision int64  `json:"revision,omitempty"`
	// CreatedAt and UpdatedAt are set for stored tenants only.
	CreatedAt timestamp       `json:"created_at,omitzero"`
	UpdatedAt timestamp       `json:"updated_at,omitzero"`
	Deleting  bool            `json:"deleting,omitempty"`
	Settings  engine.Settings `json:"settings"`
}

func (h *handler) viewTenant(t engine.TenantInfo) tenantView {
	return tenantView{
		Name: t.Name, Issuer: h.tenantIssuer(t.Name), Source: t.Source, Revision: t.Revision,
		CreatedAt: timestamp(t.CreatedAt), UpdatedAt: timestamp(t.UpdatedAt), Deleting: t.Deleting,
		Settings: t.Settings,
	}
}

// etag is a stored tenant's revision as an entity tag.
func etag(t engine.TenantInfo) string {
	if t.Source != engine.SourceAdmin {
		return ""
	}
	return `"` + strconv.FormatInt(t.Revision, 10) + `"`
}

func (h *handler) listTenants(w http.ResponseWriter, r *http.Request) error {
	after, n, err := pageParams(r, listTenants, engine.ValidTenantName)
	if err != nil {
		return err
	}
	all, err := h.reg.Tenants(r.Context())
	if err != nil {
		return err
	}
	ts, next := page(all, func(t engine.TenantInfo) string { return t.Name }, listTenants, after, n)
	out := struct {
		Tenants    []tenantView `json:"tenants"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}{Tenants: make([]tenantView, 0, len(ts)), NextCursor: next}
	for _, t := range ts {
		out.Tenants = append(out.Tenants, h.viewTenant(t))
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) getTenant(w http.ResponseWriter, r *http.Request) error {
	t, err := h.reg.Tenant(r.Context(), mux.Vars(r)["tenant"])
	if err != nil {
		return err
	}
	if tag := etag(t); tag != "" {
		w.Header().Set("ETag", tag)
	}
	httpio.WriteJSON(w, http.StatusOK, h.viewTenant(t))
	return nil
}

// ifMatch reads an If-Match header holding one revision ("3" or 3).
func ifMatch(r *http.Request) (int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		return 0, nil
	}
	// Exactly one strong tag: a weak one never matches (RFC 9110
	// §13.1.1: If-Match compares strongly).
	var n int64
	var err error
	if inner, ok := strings.CutPrefix(v, `"`); ok && strings.HasSuffix(inner, `"`) {
		n, err = strconv.ParseInt(strings.TrimSuffix(inner, `"`), 10, 64)
	} else {
		err = strconv.ErrSyntax
	}
	if err != nil || n < 1 {
		return 0, engine.Errorf(engine.CodeInvalidRequest, `If-Match must hold one revision as an entity tag, such as "3", from the tenant's ETag`)
	}
	return n, nil
}

// putTenant creates or replaces a tenant from a body of its settings
// (docs/configuration.md#tenants); If-Match makes the replacement conditional on a revision.
func (h *handler) putTenant(w http.ResponseWriter, r *http.Request) error {
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	var s engine.Settings
	if err := decode(w, r, &s); err != nil {
		return err
	}
	t, created, err := h.reg.PutTenant(r.Context(), mux.Vars(r)["tenant"], s, rev)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/admin/tenants/"+t.Name)
	}
	httpio.WriteJSON(w, status, h.viewTenant(t))
	return nil
}

func (h *handler) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	if err := h.reg.DeleteTenant(r.Context(), mux.Vars(r)["tenant"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
