package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// importRemedyCodes handles POST /v1/incidents/{id}/remedy-codes: legal's
// pool of enrollment codes from the remedy provider, as text/csv. The file
// is validated whole; any bad row refuses it (422, every bad line named)
// and nothing is written. Codes are sealed before the store sees them.
// The incident is told, so a send waiting for codes goes on.
func (s *Server) importRemedyCodes(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	if s.keys == nil || len(s.subjectKey) < 32 {
		problem(c, http.StatusServiceUnavailable, "remedy codes are not configured (BREACHFLOW_HMAC_KEY and encryption keys)")
		return
	}
	if ct := c.ContentType(); ct != "text/csv" {
		problem(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send text/csv (UTF-8)", ct))
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, remedy.MaxBytes)
	codes, bad, err := remedy.Parse(body, s.now())
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the pool is larger than %d bytes; nothing was imported", remedy.MaxBytes))
		return
	case err != nil:
		problem(c, http.StatusUnprocessableEntity, err.Error()+"; nothing was imported")
		return
	case len(bad) > 0:
		problem(c, http.StatusUnprocessableEntity, fmt.Sprintf("%d rows are refused; nothing was imported", len(bad)), lineErrors(bad)...)
		return
	case len(codes) == 0:
		problem(c, http.StatusUnprocessableEntity, "the pool has no codes; nothing was imported")
		return
	}
	ctx := c.Request.Context()
	recs := make([]store.RemedyCode, len(codes))
	for i, code := range codes {
		if recs[i], err = remedy.Seal(id, code, s.keys, s.subjectKey); err != nil {
			s.internal(c, "seal remedy code", err)
			return
		}
	}
	added, err := s.store.AddRemedyCodes(ctx, id, recs)
	var dup *store.DuplicateCodesError
	switch {
	case errors.As(err, &dup):
		fields := make([]FieldError, 0, len(dup.Indexes))
		for _, i := range dup.Indexes {
			fields = append(fields, FieldError{Field: "line " + strconv.Itoa(codes[i].Line) + ": code", Message: "duplicate code: it is already in the pool"})
		}
		problem(c, http.StatusUnprocessableEntity, fmt.Sprintf("%d codes are already in the pool; nothing was imported", len(fields)), fields...)
		return
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	case err != nil:
		s.internal(c, "add remedy codes", err)
		return
	}
	counts, err := s.store.RemedyCounts(ctx, id)
	if err != nil {
		s.internal(c, "count remedy codes", err)
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		key = "remedy-" + strconv.FormatInt(s.now().UnixNano(), 36)
	}
	if _, err := s.sendUpdate(ctx, id, workflows.UpdateRemedyPoolChanged, key,
		breach.RemedyPoolChanged{Actor: actor(c), Added: added}); err != nil {
		// The codes are stored; a send waiting for them goes on with the
		// next top-up or an explicit send.
		s.log.Warn("remedy pool change not delivered to the incident", "incident", id, "error", err)
	}
	c.JSON(http.StatusOK, gin.H{"added": added, "pool": counts})
}

// lineErrors turns refused rows into problem field errors, "line 7: code".
func lineErrors(bad []remedy.LineError) []FieldError {
	out := make([]FieldError, len(bad))
	for i, b := range bad {
		out[i] = FieldError{Field: "line " + strconv.Itoa(b.Line) + ": " + b.Field, Message: b.Reason}
	}
	return out
}

// remedyCodes handles GET /v1/incidents/{id}/remedy-codes: counts of the
// pool (total, assigned, free, per product) and, when the playbook offers
// a remedy, how far it covers the customers in scope. Never a code.
func (s *Server) remedyCodes(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	counts, err := s.store.RemedyCounts(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	} else if err != nil {
		s.internal(c, "count remedy codes", err)
		return
	}
	out := gin.H{"incident": id, "pool": counts}
	if sc := s.remedyScope(c, id); sc != nil {
		cov, err := s.store.RemedyCoverage(ctx, id, store.RemedyScope{Product: sc.Product, Jurisdictions: sc.Jurisdictions, Tiers: sc.Tiers})
		if err != nil {
			s.internal(c, "remedy coverage", err)
			return
		}
		out["remedy"] = sc
		out["coverage"] = gin.H{"in_scope": cov.InScope, "assigned": cov.Assigned, "free": cov.Free, "missing": cov.Missing()}
	}
	c.JSON(http.StatusOK, out)
}

// remedyScope is the remedy of the playbook version the incident pinned,
// or nil.
func (s *Server) remedyScope(c *gin.Context, id string) *breach.RemedyScope {
	inc, err := s.store.GetIncident(c.Request.Context(), id)
	if err != nil || s.playbooks == nil {
		return nil
	}
	pb, ok := s.playbooks.Get(inc.PlaybookID)
	if !ok || pb.Version != inc.PlaybookVersion {
		return nil
	}
	return pb.Remedy.Scope()
}
