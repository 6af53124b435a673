package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// The audit trail of an incident, as the API shows it.

// AuditEventView is one audit event as the API shows it.
type AuditEventView struct {
	Seq      int64           `json:"seq"`
	Key      string          `json:"key"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
	MAC      string          `json:"mac,omitempty"`
	MACKey   string          `json:"mac_key,omitempty"`
}

// AuditTrail is the body of GET /v1/incidents/{id}/audit, and the export
// `breachflow audit verify --file` checks offline.
type AuditTrail struct {
	IncidentID string            `json:"incident_id"`
	Events     []AuditEventView  `json:"events"`
	Chain      store.ChainReport `json:"chain"`
	// Checkpoint is the chain head the incident's workflow holds; absent
	// when the workflow could not be asked (the chain was then verified
	// without it, and chain.checkpoint is 0).
	Checkpoint *store.ChainHead `json:"checkpoint,omitempty"`
}

// StoreEvents returns the trail's events in the store's form.
func (t AuditTrail) StoreEvents() []store.AuditEvent {
	out := make([]store.AuditEvent, 0, len(t.Events))
	for _, e := range t.Events {
		out = append(out, store.AuditEvent{IncidentID: t.IncidentID, Seq: e.Seq, Key: e.Key, At: e.At, Actor: e.Actor,
			Action: e.Action, Target: e.Target, Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash, MAC: e.MAC, MACKey: e.MACKey})
	}
	return out
}

func (s *Server) audit(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := s.store.GetIncident(ctx, id); errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	} else if err != nil {
		s.internal(c, "get incident", err)
		return
	}
	// The checkpoint is read first: events the workflow writes meanwhile
	// only lengthen the chain past it.
	var head *store.ChainHead
	if st, err := s.queryStatus(ctx, id); err != nil {
		s.log.WarnContext(c, "audit: no checkpoint from the workflow", "incident", id, "error", err)
	} else {
		head = st.AuditHead
	}
	events, report, err := s.store.VerifiedAudit(ctx, id, head)
	if err != nil {
		s.internal(c, "verify audit", err)
		return
	}
	out := AuditTrail{IncidentID: id, Events: make([]AuditEventView, 0, len(events)), Chain: report, Checkpoint: head}
	for _, e := range events {
		out.Events = append(out.Events, AuditEventView{Seq: e.Seq, Key: e.Key, At: e.At, Actor: e.Actor, Action: e.Action,
			Target: e.Target, Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash, MAC: e.MAC, MACKey: e.MACKey})
	}
	c.JSON(http.StatusOK, out)
}
