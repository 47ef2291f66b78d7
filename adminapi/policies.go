package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// visible returns the modules a tenant that exists can use.
func (h *handler) visible(tenant string) ([]engine.ModuleInfo, error) {
	if !h.reg.HasTenant(tenant) {
		return nil, engine.Errorf(engine.CodeNotFound, "no tenant named %q", truncate(tenant, 64))
	}
	if h.modules == nil {
		return []engine.ModuleInfo{}, nil
	}
	ms := h.modules.Visible(tenant)
	if ms == nil {
		ms = []engine.ModuleInfo{}
	}
	return ms, nil
}

func (h *handler) listPolicies(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.visible(mux.Vars(r)["tenant"])
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusOK, struct {
		Policies []engine.ModuleInfo `json:"policies"`
	}{ms})
	return nil
}

func (h *handler) getPolicy(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	ms, err := h.visible(v["tenant"])
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Name == v["name"] {
			httpio.WriteJSON(w, http.StatusOK, m)
			return nil
		}
	}
	return engine.Errorf(engine.CodeNotFound, "tenant %q has no policy module %q", v["tenant"], truncate(v["name"], 128))
}
