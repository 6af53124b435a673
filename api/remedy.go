package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// importRemedyCodes handles POST /v1/incidents/{id}/remedy-codes: legal's
// pool of enrollment codes from the remedy provider, as text/csv (see
// importRemedyPool).
func (s *Server) importRemedyCodes(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	if s.keys == nil || len(s.subjectKey) < 32 {
		problem(c, http.StatusServiceUnavailable, remedyOff)
		return
	}
	if ct := c.ContentType(); ct != "text/csv" {
		problem(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send text/csv (UTF-8)", ct))
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, remedy.MaxBytes)
	res, _, e := s.importRemedyPool(c.Request.Context(), id, body, actor(c), c.GetHeader("Idempotency-Key"))
	if e != nil {
		s.answerAction(c, e)
		return
	}
	c.JSON(http.StatusOK, gin.H{"added": res.Added, "pool": res.Pool})
}

// remedyOff is the refusal of a pool import on a server without the keys
// that seal codes.
const remedyOff = "remedy codes are not configured (BREACHFLOW_HMAC_KEY and encryption keys)"

// poolImport is what an import of remedy codes did: the codes added and
// the pool's counts after it.
type poolImport struct {
	Added int
	Pool  store.RemedyCounts
}

// importRemedyPool adds a pool file to incident id's remedy-code pool;
// every surface (REST, the dashboard's upload form) imports through it,
// under the same limit (remedy.MaxBytes). The file is validated whole; any
// bad row refuses it (422, every bad line named, also answered as lines
// for a page) and nothing is written. Codes are sealed before the store
// sees them, and no answer ever holds one. The incident is told, so a send
// waiting for codes goes on; key is that Update's idempotency key (a fresh
// one when empty).
func (s *Server) importRemedyPool(ctx context.Context, id string, body io.Reader, by breach.Actor, key string) (*poolImport, []remedy.LineError, *actionError) {
	if s.keys == nil || len(s.subjectKey) < 32 {
		return nil, nil, refusedAction(http.StatusServiceUnavailable, remedyOff)
	}
	codes, bad, err := remedy.Parse(http.MaxBytesReader(nil, io.NopCloser(body), remedy.MaxBytes), s.now())
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, nil, refusedAction(http.StatusRequestEntityTooLarge, fmt.Sprintf("the pool is larger than %d bytes; nothing was imported", remedy.MaxBytes))
	case err != nil:
		return nil, nil, refusedAction(http.StatusUnprocessableEntity, err.Error()+"; nothing was imported")
	case len(bad) > 0:
		return nil, bad, refusedAction(http.StatusUnprocessableEntity, fmt.Sprintf("%d rows are refused; nothing was imported", len(bad)), lineErrors(bad)...)
	case len(codes) == 0:
		return nil, nil, refusedAction(http.StatusUnprocessableEntity, "the pool has no codes; nothing was imported")
	}
	recs := make([]store.RemedyCode, len(codes))
	for i, code := range codes {
		if recs[i], err = remedy.Seal(id, code, s.keys, s.subjectKey); err != nil {
			return nil, nil, failedAction("seal remedy code", err)
		}
	}
	added, err := s.store.AddRemedyCodes(ctx, id, recs)
	var dup *store.DuplicateCodesError
	switch {
	case errors.As(err, &dup):
		lines := make([]remedy.LineError, 0, len(dup.Indexes))
		for _, i := range dup.Indexes {
			lines = append(lines, remedy.LineError{Line: codes[i].Line, Field: "code", Reason: "duplicate code: it is already in the pool"})
		}
		return nil, lines, refusedAction(http.StatusUnprocessableEntity, fmt.Sprintf("%d codes are already in the pool; nothing was imported", len(lines)), lineErrors(lines)...)
	case errors.Is(err, store.ErrNotFound):
		return nil, nil, refusedAction(http.StatusNotFound, "no incident "+id)
	case err != nil:
		return nil, nil, failedAction("add remedy codes", err)
	}
	counts, err := s.store.RemedyCounts(ctx, id)
	if err != nil {
		return nil, nil, failedAction("count remedy codes", err)
	}
	if key == "" {
		key = "remedy-" + strconv.FormatInt(s.now().UnixNano(), 36)
	}
	if _, err := s.sendUpdate(ctx, id, workflows.UpdateRemedyPoolChanged, key,
		breach.RemedyPoolChanged{Actor: by, Added: added}); err != nil {
		// The codes are stored; a send waiting for them goes on with the
		// next top-up or an explicit send.
		s.log.Warn("remedy pool change not delivered to the incident", "incident", id, "error", err)
	}
	return &poolImport{Added: added, Pool: counts}, nil, nil
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
	ps, e := s.poolStatus(c.Request.Context(), id)
	if e != nil {
		s.answerAction(c, e)
		return
	}
	out := gin.H{"incident": id, "pool": ps.Pool}
	if ps.Remedy != nil {
		cov := ps.Coverage
		out["remedy"] = ps.Remedy
		out["coverage"] = gin.H{"in_scope": cov.InScope, "assigned": cov.Assigned, "free": cov.Free, "missing": cov.Missing()}
	}
	c.JSON(http.StatusOK, out)
}

// remedyPoolStatus is an incident's pool as GET …/remedy-codes and the
// dashboard's notice page show it: counts only, never a code.
type remedyPoolStatus struct {
	Pool store.RemedyCounts
	// Remedy is the playbook's offer (nil when it offers none), and
	// Coverage how far the pool covers the customers in its scope.
	Remedy   *breach.RemedyScope
	Coverage breach.RemedyCoverage
}

// Short is the warning the incident gives when the pool does not cover
// everyone in scope (breach.RemedyCodesMissing, as on the timeline), or "".
func (p remedyPoolStatus) Short() string {
	if p.Remedy == nil || p.Coverage.Missing() == 0 {
		return ""
	}
	return breach.RemedyCodesMissing(p.Coverage, p.Remedy.Product)
}

// poolStatus counts incident id's pool and its coverage of the remedy's
// scope.
func (s *Server) poolStatus(ctx context.Context, id string) (*remedyPoolStatus, *actionError) {
	counts, err := s.store.RemedyCounts(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refusedAction(http.StatusNotFound, "no incident "+id)
	} else if err != nil {
		return nil, failedAction("count remedy codes", err)
	}
	out := &remedyPoolStatus{Pool: counts}
	if sc := s.remedyScope(ctx, id); sc != nil {
		cov, err := s.store.RemedyCoverage(ctx, id, store.RemedyScope{Product: sc.Product, Jurisdictions: sc.Jurisdictions, Tiers: sc.Tiers})
		if err != nil {
			return nil, failedAction("remedy coverage", err)
		}
		out.Remedy, out.Coverage = sc, breach.RemedyCoverage{InScope: cov.InScope, Assigned: cov.Assigned, Free: cov.Free}
	}
	return out, nil
}

// remedyScope is the remedy of the playbook version the incident pinned,
// or nil.
func (s *Server) remedyScope(ctx context.Context, id string) *breach.RemedyScope {
	inc, err := s.store.GetIncident(ctx, id)
	if err != nil || s.playbooks == nil {
		return nil
	}
	pb, ok := s.playbooks.Get(inc.PlaybookID)
	if !ok || pb.Version != inc.PlaybookVersion {
		return nil
	}
	return pb.Remedy.Scope()
}
