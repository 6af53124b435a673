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
	events, err := s.store.ListAudit(ctx, id)
	if err != nil {
		s.internal(c, "list audit", err)
		return
	}
	report, err := s.store.VerifyAudit(ctx, id)
	if err != nil {
		s.internal(c, "verify audit", err)
		return
	}
	out := make([]AuditEventView, 0, len(events))
	for _, e := range events {
		out = append(out, AuditEventView{Seq: e.Seq, Key: e.Key, At: e.At, Actor: e.Actor, Action: e.Action,
			Target: e.Target, Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash})
	}
	c.JSON(http.StatusOK, gin.H{"events": out, "chain": gin.H{"ok": report.OK, "events": report.Events,
		"broken_at": report.BrokenAt, "reason": report.Reason}})
}
