package api

import (
	"context"
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
// affected customers, streamed (see importCSV).
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
	res, ierr := s.importCSV(c.Request.Context(), id, c.Request.Body, actor(c))
	switch {
	case ierr == nil:
	case ierr.Err != nil:
		s.internal(c, ierr.Op, ierr.Err)
		return
	case ierr.Update != nil:
		s.updateError(c, id, ierr.Update)
		return
	default:
		problem(c, ierr.Status, ierr.Detail)
		return
	}
	out := gin.H{"report": res.Report, "inserted": res.Inserted, "updated": res.Updated,
		"stored": gin.H{"per_jurisdiction": res.PerJurisdiction, "per_tier": res.PerTier}}
	if res.Obligations != nil {
		out["obligations"] = res.Obligations
	}
	c.JSON(http.StatusOK, out)
}

// importResult is what an import did: the file's report, the subjects
// written, the store's counts after it and, when they changed the
// incident's affected fact, its obligations.
type importResult struct {
	Report                   *subjects.Report
	Inserted, Updated        int
	PerJurisdiction, PerTier map[string]int
	Obligations              []breach.Obligation
}

// importError is why an import did not happen: a refusal (Status,
// Detail), a refused Update of the affected fact (Update), or an internal
// failure (Op, Err).
type importError struct {
	Status int
	Detail string
	Update error
	Op     string
	Err    error
}

// importCSV imports a CSV of affected customers into incident id; every
// surface (REST, the dashboard's upload form) imports through it. The
// upload is validated in full first (spooled to a temporary file), so a
// file-level error imports nothing; then rows are sealed (name and email
// encrypted, email HMAC for de-duplication) and upserted in batches. The
// counts per jurisdiction become the incident's `affected` fact, so the
// clocks follow the import.
func (s *Server) importCSV(ctx context.Context, id string, body io.Reader, by breach.Actor) (*importResult, *importError) {
	if s.keys == nil || len(s.subjectKey) < 32 {
		return nil, &importError{Status: http.StatusServiceUnavailable, Detail: "subject import is not configured (BREACHFLOW_HMAC_KEY)"}
	}
	inc, err := s.store.GetIncident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &importError{Status: http.StatusNotFound, Detail: "no incident " + id}
	} else if err != nil {
		return nil, &importError{Op: "get incident", Err: err}
	}
	if inc.Status != store.StatusActive {
		return nil, &importError{Status: http.StatusConflict, Detail: "incident " + id + " is closed"}
	}
	// The copy kept for the second pass is encrypted with a key that
	// lives in this request only: the disk never holds the list in clear.
	spool, err := subjects.NewSpool("")
	if err != nil {
		return nil, &importError{Op: "spool upload", Err: err}
	}
	defer spool.Close()
	opts := subjects.Options{MaxBytes: maxSubjectsBytes, Now: s.now(), AllowLocalDomains: s.allowLocal}
	// Pass 1: validate everything while keeping a copy.
	if _, err := subjects.Import(io.TeeReader(body, spool), opts, nil); err != nil {
		status, detail := importFailure(err)
		return nil, &importError{Status: status, Detail: detail}
	}
	upload, err := spool.Reader()
	if err != nil {
		return nil, &importError{Op: "rewind upload", Err: err}
	}
	// Pass 2: seal and store.
	var batch []store.SubjectRecord
	res := &importResult{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		in, up, err := s.store.UpsertSubjects(ctx, id, batch)
		res.Inserted, res.Updated, batch = res.Inserted+in, res.Updated+up, batch[:0]
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
		return nil, &importError{Op: "import subjects", Err: err}
	}
	res.Report = report
	res.PerJurisdiction, res.PerTier, err = s.store.SubjectCounts(ctx, id)
	if err != nil {
		return nil, &importError{Op: "count subjects", Err: err}
	}
	affected := map[string]int{}
	for j, n := range res.PerJurisdiction {
		if j != subjects.UnknownJurisdiction {
			affected[j] = n
		}
	}
	if len(affected) > 0 {
		st, err := s.sendUpdate(ctx, id, workflows.UpdatePatchFacts, "subjects-"+strconv.FormatInt(s.now().UnixNano(), 36),
			breach.PatchFacts{Actor: by, Set: []string{"affected"}, Facts: breach.Facts{Affected: affected}})
		if err != nil {
			return nil, &importError{Update: err}
		}
		res.Obligations = st.Obligations
	}
	return res, nil
}

// importFailure is the status and message of a refused upload.
func importFailure(err error) (int, string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, subjects.ErrTooLarge), errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, err.Error() + "; nothing was imported"
	case errors.Is(err, subjects.ErrNotUTF8), errors.Is(err, subjects.ErrHeader):
		return http.StatusUnprocessableEntity, err.Error() + "; nothing was imported"
	default:
		return http.StatusBadRequest, "the upload could not be read: " + err.Error() + "; nothing was imported"
	}
}
