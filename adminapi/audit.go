package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// auditPage answers a page of a tenant's audit log ("" for the process).
func (h *handler) auditPage(w http.ResponseWriter, r *http.Request, tenant string) error {
	if r.URL.Query().Has("before") {
		return engine.Errorf(engine.CodeInvalidRequest, "the audit log pages as every listing does: pass the previous page's next_cursor as cursor (before is no longer read)")
	}
	after, n, err := pageParams(r, listAudit, anyKey)
	if err != nil {
		return err
	}
	es, next, err := h.reg.AuditEvents(r.Context(), tenant, after, n)
	if err != nil {
		// limit is checked already: an invalid_request here is the cursor.
		if e := engine.AsError(err); e.Code == engine.CodeInvalidRequest && after != "" {
			return engine.Errorf(engine.CodeInvalidRequest, "cursor is not one this audit log gave: pass next_cursor as it came, or no cursor for the first page")
		}
		return err
	}
	out := struct {
		Events     []auditView `json:"events"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Events: make([]auditView, 0, len(es)), NextCursor: nextCursor(listAudit, next)}
	for _, e := range es {
		out.Events = append(out.Events, auditView{Time: timestamp(e.Time), AuditEvent: e})
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}

// auditView is an audit event with its time in the admin API's format.
// Time, at the outer level, hides the event's own time.Time from
// encoding/json; every other member is the event's.
type auditView struct {
	Time timestamp `json:"time"`
	*engine.AuditEvent
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
