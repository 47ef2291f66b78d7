package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// auditPage answers a page of a tenant's audit log ("" for the process).
func (h *handler) auditPage(w http.ResponseWriter, r *http.Request, tenant string) error {
	n, err := limit(r, DefaultPageSize)
	if err != nil {
		return err
	}
	es, next, err := h.reg.AuditEvents(r.Context(), tenant, r.URL.Query().Get("before"), n)
	if err != nil {
		return err
	}
	if es == nil {
		es = []*engine.AuditEvent{}
	}
	httpio.WriteJSON(w, http.StatusOK, struct {
		Events     []*engine.AuditEvent `json:"events"`
		NextCursor string               `json:"next_cursor,omitempty"`
	}{es, next})
	return nil
}

// tenantAudit pages through a tenant's audit log, newest first; the log of
// a deleted tenant stays readable by the global admin.
func (h *handler) tenantAudit(w http.ResponseWriter, r *http.Request) error {
	return h.auditPage(w, r, mux.Vars(r)["tenant"])
}

// processAudit pages through the process-wide audit log (shared policy
// modules loaded or refused).
func (h *handler) processAudit(w http.ResponseWriter, r *http.Request) error {
	return h.auditPage(w, r, "")
}
