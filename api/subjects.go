package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// maxSubjectsBytes bounds one upload (documented in docs/api.md).
const maxSubjectsBytes = subjects.DefaultMaxBytes

// importBatch is how many subjects go to the store per transaction.
const importBatch = 1000

// importSubjects handles POST /v1/incidents/{id}/subjects: a CSV of
// affected customers, streamed. The upload is validated in full first
// (spooled to a temporary file), so a file-level error imports nothing;
// then rows are sealed (name and email encrypted, email HMAC for
// de-duplication) and upserted in batches. The counts per jurisdiction
// become the incident's `affected` fact, so the clocks follow the import.
func (s *Server) importSubjects(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	if s.keys == nil || len(s.subjectKey) < 32 {
		problem(c, http.StatusServiceUnavailable, "subject import is not configured (BREACHFLOW_HMAC_KEY)")
		return
	}
	if ct := c.ContentType(); ct != "text/csv" {
		problem(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send text/csv (UTF-8)", ct))
		return
	}
	ctx := c.Request.Context()
	inc, err := s.store.GetIncident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return
	} else if err != nil {
		s.internal(c, "get incident", err)
		return
	}
	if inc.Status != store.StatusActive {
		problem(c, http.StatusConflict, "incident "+id+" is closed")
		return
	}
	// The copy kept for the second pass is encrypted with a key that
	// lives in this request only: the disk never holds the list in clear.
	spool, err := subjects.NewSpool("")
	if err != nil {
		s.internal(c, "spool upload", err)
		return
	}
	defer spool.Close()
	opts := subjects.Options{MaxBytes: maxSubjectsBytes, Now: s.now(), AllowLocalDomains: s.allowLocal}
	// Pass 1: validate everything while keeping a copy.
	if _, err := subjects.Import(io.TeeReader(c.Request.Body, spool), opts, nil); err != nil {
		s.importError(c, err)
		return
	}
	upload, err := spool.Reader()
	if err != nil {
		s.internal(c, "rewind upload", err)
		return
	}
	// Pass 2: seal and store.
	var batch []store.SubjectRecord
	inserted, updated := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		in, up, err := s.store.UpsertSubjects(ctx, id, batch)
		inserted, updated, batch = inserted+in, updated+up, batch[:0]
		return err
	}
	report, err := subjects.Import(upload, opts, func(sub subjects.Subject) error {
		rec, err := subjects.Seal(id, sub, s.keys, s.subjectKey)
		if err != nil {
			return err
		}
		batch = append(batch, rec)
		if len(batch) >= importBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		s.internal(c, "import subjects", err)
		return
	}
	byJurisdiction, byTier, err := s.store.SubjectCounts(ctx, id)
	if err != nil {
		s.internal(c, "count subjects", err)
		return
	}
	affected := map[string]int{}
	for j, n := range byJurisdiction {
		if j != subjects.UnknownJurisdiction {
			affected[j] = n
		}
	}
	out := gin.H{"report": report, "inserted": inserted, "updated": updated,
		"stored": gin.H{"per_jurisdiction": byJurisdiction, "per_tier": byTier}}
	if len(affected) > 0 {
		st, err := s.sendUpdate(c.Request.Context(), id, workflows.UpdatePatchFacts, "subjects-"+strconv.FormatInt(s.now().UnixNano(), 36),
			breach.PatchFacts{Actor: actor(c), Set: []string{"affected"}, Facts: breach.Facts{Affected: affected}})
		if err != nil {
			s.updateError(c, id, err)
			return
		}
		out["obligations"] = st.Obligations
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) importError(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, subjects.ErrTooLarge), errors.As(err, &tooBig):
		problem(c, http.StatusRequestEntityTooLarge, err.Error()+"; nothing was imported")
	case errors.Is(err, subjects.ErrNotUTF8), errors.Is(err, subjects.ErrHeader):
		problem(c, http.StatusUnprocessableEntity, err.Error()+"; nothing was imported")
	default:
		problem(c, http.StatusBadRequest, "the upload could not be read: "+err.Error()+"; nothing was imported")
	}
}
