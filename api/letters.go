package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// Letters: the postal channel for customers email cannot reach (no email,
// or an email notice that failed for good) who were imported with a postal
// address. Legal or a responder generates a batch; the batch PDF and its
// manifest hold names and addresses, so downloading them needs the same
// two-person access grant as the outreach call list; legal records the
// printer's reference when the batch is handed over, and each letter that
// comes back. Every step is in the audit chain and the delivery report.

// RemedyLookup finds the remedy offer (product, the customer's code, how
// and by when to enroll) of one customer of an incident, or nil when there
// is none. The remedy-code pool implements it; without one, letters show
// no remedy box.
type RemedyLookup interface {
	Remedy(ctx context.Context, incidentID string, subjectID int64) (*letters.Remedy, error)
}

// poolRemedies is the RemedyLookup of the incident's remedy-code pool: the
// code the customer was given when their notices were prepared, opened
// only to be printed.
type poolRemedies struct {
	store store.Store
	keys  store.Sealer
}

func (p poolRemedies) Remedy(ctx context.Context, incidentID string, subjectID int64) (*letters.Remedy, error) {
	codes, err := p.store.RemedyCodesFor(ctx, incidentID, []int64{subjectID})
	if err != nil {
		return nil, err
	}
	rc, ok := codes[subjectID]
	if !ok {
		return nil, nil
	}
	code, err := remedy.Open(rc, p.keys)
	if err != nil {
		return nil, err
	}
	return &letters.Remedy{Product: rc.Product, Code: code, URL: rc.EnrollmentURL, EnrollBy: rc.EnrollBy}, nil
}

// MaxLetterBatch bounds the letters of one batch; the rest wait for the
// next.
const MaxLetterBatch = store.MaxNoticeBatch

// letterRenderer loads the fonts once, on first use: a server without them
// serves everything else.
type letterRenderer struct {
	fonts letters.Fonts
	once  sync.Once
	r     *letters.Renderer
	err   error
}

func (l *letterRenderer) get() (*letters.Renderer, error) {
	l.once.Do(func() { l.r, l.err = letters.NewRenderer(l.fonts) })
	return l.r, l.err
}

// letterBatchView is a batch as the API shows it: counts, never names.
type letterBatchView struct {
	ID          int64      `json:"id"`
	Letters     int        `json:"letters"`
	Unprintable int        `json:"unprintable"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	PrintedBy   string     `json:"printed_by,omitempty"`
	PrintedAt   *time.Time `json:"printed_at,omitempty"`
	Reference   string     `json:"reference,omitempty"`
	// PDFSHA256 is the hex SHA-256 of the PDF as it was recorded printed.
	PDFSHA256 string `json:"pdf_sha256,omitempty"`
	PDF       string `json:"pdf"`
	Manifest  string `json:"manifest"`
}

func viewBatch(b store.LetterBatch) letterBatchView {
	base := fmt.Sprintf("/v1/incidents/%s/letters/%d/", b.IncidentID, b.ID)
	return letterBatchView{ID: b.ID, Letters: b.Letters, Unprintable: b.Unprintable, CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt,
		PrintedBy: b.PrintedBy, PrintedAt: b.PrintedAt, Reference: b.Reference, PDFSHA256: b.PDFSHA256, PDF: base + "letters.pdf", Manifest: base + "manifest.csv"}
}

// unprintableView names a customer whose letter cannot be printed by
// subject id, with the reason (which quotes no personal data).
type unprintableView struct {
	SubjectID int64  `json:"subject_id"`
	Reason    string `json:"reason"`
}

// letterReference is the reference printed on a letter: its notice's
// Message-ID without the brackets and host.
func letterReference(incidentID string, subjectID int64) string {
	ref := strings.Trim(activities.MessageID(incidentID, store.NoticeKindLetter, subjectID), "<>")
	ref, _, _ = strings.Cut(ref, "@")
	return ref
}

// listLetters handles GET /v1/incidents/{id}/letters: the batches and how
// many customers wait for a letter.
func (s *Server) listLetters(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	bs, err := s.store.ListLetterBatches(ctx, id)
	if err != nil {
		s.internal(c, "list letter batches", err)
		return
	}
	waiting, err := s.store.LetterCandidates(ctx, id)
	if err != nil {
		s.internal(c, "letter candidates", err)
		return
	}
	out := make([]letterBatchView, 0, len(bs))
	for _, b := range bs {
		out = append(out, viewBatch(b))
	}
	c.JSON(http.StatusOK, gin.H{"batches": out, "waiting": len(waiting)})
}

// generateLetters handles POST /v1/incidents/{id}/letters: a batch of the
// customers who need a letter. Customers whose address cannot be printed
// are reported and recorded as failed letters; the batch goes on.
func (s *Server) generateLetters(c *gin.Context) {
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	id, ctx := st.ID, c.Request.Context()
	r, err := s.letters.get()
	if err != nil {
		s.log.Error("letter fonts", "error", err)
		problem(c, http.StatusServiceUnavailable, "letters are off: the letter fonts are not installed (see docs/letters.md)")
		return
	}
	ids, err := s.store.LetterCandidates(ctx, id)
	if err != nil {
		s.internal(c, "letter candidates", err)
		return
	}
	if len(ids) == 0 {
		problem(c, http.StatusConflict, "no customer needs a letter: none with a postal address lacks an email or has a failed email notice without a letter")
		return
	}
	remaining := max(0, len(ids)-MaxLetterBatch)
	ids = ids[:min(len(ids), MaxLetterBatch)]
	recs, err := s.store.GetSubjects(ctx, ids)
	if err != nil {
		s.internal(c, "load letter subjects", err)
		return
	}
	locales := map[string]int{}
	for _, rec := range recs {
		locales[breach.NormalizeLocale(rec.Locale)]++
	}
	if missing := breach.MissingNoticeTexts(st.NoticeTexts, locales); len(missing) > 0 {
		problem(c, http.StatusConflict, breach.NoticeTextsMissing+": "+strings.Join(missing, "; "))
		return
	}
	var printable []int64
	unprintable := map[int64]string{}
	for _, rec := range recs {
		l, err := s.composeLetter(ctx, st, rec, false)
		if err == nil {
			err = r.Check(l)
		}
		switch {
		case errors.Is(err, letters.ErrUnprintable):
			unprintable[rec.ID] = strings.TrimPrefix(strings.TrimPrefix(err.Error(), letters.ErrUnprintable.Error()), ": ")
		case err != nil:
			s.internal(c, "compose letter", err)
			return
		default:
			printable = append(printable, rec.ID)
		}
	}
	who := caller(c)
	at := s.now().UTC()
	b, err := s.store.CreateLetterBatch(ctx, store.NewLetterBatch{IncidentID: id, CreatedBy: who.Name, At: at,
		Subjects: printable, Unprintable: unprintable, MessageID: func(sid int64) string {
			return activities.MessageID(id, store.NoticeKindLetter, sid)
		}})
	if errors.Is(err, store.ErrConflict) {
		problem(c, http.StatusConflict, "another batch took some of these customers at the same time; generate again")
		return
	}
	if err != nil {
		s.internal(c, "create letter batch", err)
		return
	}
	if err := s.auditContacts(ctx, id, who, "letters.generated", "letters:"+strconv.FormatInt(b.ID, 10), at,
		map[string]any{"batch": b.ID, "letters": b.Letters, "unprintable": b.Unprintable}); err != nil {
		s.internal(c, "audit letter batch", err)
		return
	}
	report := make([]unprintableView, 0, len(unprintable))
	for sid, why := range unprintable {
		report = append(report, unprintableView{SubjectID: sid, Reason: why})
	}
	slices.SortFunc(report, func(a, b unprintableView) int { return int(a.SubjectID - b.SubjectID) })
	if b.Letters == 0 {
		// Every one was unprintable: nothing waits for the printer.
		s.wakeNotices(c, id, fmt.Sprintf("letters-generated-%d", b.ID))
	}
	c.JSON(http.StatusCreated, gin.H{"batch": viewBatch(b), "unprintable": report, "remaining": remaining})
}

// composeLetter renders one customer's letter, opening their sealed name
// and address in memory only.
func (s *Server) composeLetter(ctx context.Context, st *breach.Status, rec store.SubjectRecord, withRemedy bool) (letters.Letter, error) {
	if s.keys == nil {
		return letters.Letter{}, errors.New("no keys to open customer data")
	}
	name, _, err := subjects.Open(rec, s.keys)
	if err != nil {
		return letters.Letter{}, err
	}
	addr, err := subjects.OpenAddress(rec, s.keys)
	if err != nil {
		return letters.Letter{}, err
	}
	var rm *letters.Remedy
	if withRemedy && s.remedies != nil {
		if rm, err = s.remedies.Remedy(ctx, st.ID, rec.ID); err != nil {
			return letters.Letter{}, fmt.Errorf("remedy of subject %d: %w", rec.ID, err)
		}
	}
	return letters.Compose(templates.NoticeInput{Incident: st, Org: s.org, Locale: rec.Locale, Name: name,
		DataElements: rec.DataElements, GeneratedAt: st.LaunchedAt}, letterReference(st.ID, rec.ID), addr, rm)
}

// batchParam reads the batch id of the path, answering 404 itself.
func batchParam(c *gin.Context) (int64, bool) {
	b, err := strconv.ParseInt(c.Param("batch"), 10, 64)
	if err != nil || b < 1 {
		problem(c, http.StatusNotFound, "no such letter batch")
		return 0, false
	}
	return b, true
}

// renderBatch renders a batch's letters again from the store, as they
// were placed: the PDF and the manifest come from one rendering. Needs an
// active access grant, checked (and audited) by the caller.
func (s *Server) renderBatch(c *gin.Context, what string) (pdf []byte, placed []letters.Placed, ok bool) {
	batch, ok := batchParam(c)
	if !ok {
		return nil, nil, false
	}
	st, ok := s.loadStatus(c)
	if !ok {
		return nil, nil, false
	}
	ctx := c.Request.Context()
	b, err := s.store.GetLetterBatch(ctx, st.ID, batch)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, fmt.Sprintf("incident %s has no letter batch %d", st.ID, batch))
		return nil, nil, false
	}
	if err != nil {
		s.internal(c, "get letter batch", err)
		return nil, nil, false
	}
	if _, ok := s.contactsGrant(c, st.ID, fmt.Sprintf("letter batch %d %s", b.ID, what)); !ok {
		return nil, nil, false
	}
	return s.batchPDF(c, st, b)
}

// batchPDF renders batch b's letters from the store, as they were placed,
// answering the problem itself when it cannot. It shows nobody anything:
// callers that hand the PDF out check the access grant first.
func (s *Server) batchPDF(c *gin.Context, st *breach.Status, b store.LetterBatch) (pdf []byte, placed []letters.Placed, ok bool) {
	ctx := c.Request.Context()
	r, err := s.letters.get()
	if err != nil {
		s.log.Error("letter fonts", "error", err)
		problem(c, http.StatusServiceUnavailable, "letters are off: the letter fonts are not installed (see docs/letters.md)")
		return nil, nil, false
	}
	recs, err := s.store.GetSubjects(ctx, b.SubjectIDs)
	if err != nil {
		s.internal(c, "load letter subjects", err)
		return nil, nil, false
	}
	ls := make([]letters.Letter, 0, len(recs))
	for _, rec := range recs {
		l, err := s.composeLetter(ctx, st, rec, true)
		if err != nil {
			s.internal(c, "compose letter", err)
			return nil, nil, false
		}
		ls = append(ls, l)
	}
	var buf bytes.Buffer
	placed, err = r.Render(&buf, ls, b.CreatedAt)
	if errors.Is(err, letters.ErrUnprintable) {
		problem(c, http.StatusConflict, "a customer's address changed since the batch was made and cannot be printed now; generate the batch's letters again after fixing the import")
		return nil, nil, false
	}
	if err != nil {
		s.internal(c, "render letters", err)
		return nil, nil, false
	}
	return buf.Bytes(), placed, true
}

// letterPDF handles GET /v1/incidents/{id}/letters/{batch}/letters.pdf.
func (s *Server) letterPDF(c *gin.Context) {
	pdf, _, ok := s.renderBatch(c, "PDF")
	if !ok {
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("%s-letters-%s.pdf", c.Param("id"), c.Param("batch"))))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// letterManifest handles GET /v1/incidents/{id}/letters/{batch}/manifest.csv.
func (s *Server) letterManifest(c *gin.Context) {
	_, placed, ok := s.renderBatch(c, "manifest")
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := letters.WriteManifest(&buf, placed); err != nil {
		s.internal(c, "write manifest", err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("%s-letters-%s.csv", c.Param("id"), c.Param("batch"))))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

type letterPrintedRequest struct {
	Reference string `json:"reference"`
}

// letterPrinted handles POST /v1/incidents/{id}/letters/{batch}/printed:
// legal records that the batch went to the printer, under its reference;
// the batch's letters count as sent from then. The SHA-256 of the batch
// PDF as it renders now (what a download gave) is kept with the batch.
func (s *Server) letterPrinted(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	batch, ok := batchParam(c)
	if !ok {
		return
	}
	var req letterPrintedRequest
	if !decodeStrict(c, &req) {
		return
	}
	req.Reference = strings.TrimSpace(req.Reference)
	if req.Reference == "" || len(req.Reference) > 200 || strings.ContainsFunc(req.Reference, isControl) {
		problem(c, http.StatusUnprocessableEntity, "the printer's reference is required", FieldError{Field: "reference", Message: "1 to 200 characters, one line"})
		return
	}
	ctx, who, at := c.Request.Context(), caller(c), s.now().UTC()
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	b, err := s.store.GetLetterBatch(ctx, id, batch)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, fmt.Sprintf("incident %s has no letter batch %d", id, batch))
		return
	}
	if err != nil {
		s.internal(c, "get letter batch", err)
		return
	}
	pdf, _, ok := s.batchPDF(c, st, b)
	if !ok {
		return
	}
	sum := sha256.Sum256(pdf)
	b, err = s.store.MarkLetterBatchPrinted(ctx, id, batch, req.Reference, who.Name, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, fmt.Sprintf("incident %s has no letter batch %d", id, batch))
		return
	case errors.Is(err, store.ErrConflict):
		problem(c, http.StatusConflict, fmt.Sprintf("letter batch %d was already recorded printed under another reference", batch))
		return
	case err != nil:
		s.internal(c, "mark letter batch printed", err)
		return
	}
	if b, err = s.store.RecordLetterBatchPDF(ctx, id, b.ID, hex.EncodeToString(sum[:])); err != nil {
		s.internal(c, "record letter batch PDF", err)
		return
	}
	if err := s.auditContacts(ctx, id, who, "letters.printed", "letters:"+strconv.FormatInt(b.ID, 10), at,
		map[string]any{"batch": b.ID, "reference": b.Reference, "letters": b.Letters, "pdf_sha256": b.PDFSHA256}); err != nil {
		s.internal(c, "audit letters printed", err)
		return
	}
	s.wakeNotices(c, id, fmt.Sprintf("letters-printed-%d", b.ID))
	c.JSON(http.StatusOK, gin.H{"batch": viewBatch(b)})
}

type letterReturnRequest struct {
	SubjectID int64  `json:"subject_id"`
	Reason    string `json:"reason"`
}

// letterReturned handles POST /v1/incidents/{id}/letters/returns: a
// printed letter came back undeliverable. The reason is kept with the
// letter's notice and shown to every viewer, so it must not quote the
// address.
func (s *Server) letterReturned(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	var req letterReturnRequest
	if !decodeStrict(c, &req) {
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	var bad []FieldError
	if req.SubjectID < 1 {
		bad = append(bad, FieldError{Field: "subject_id", Message: "the customer's subject id (a whole number ≥ 1)"})
	}
	if req.Reason == "" || len(req.Reason) > 200 || strings.ContainsFunc(req.Reason, isControl) {
		bad = append(bad, FieldError{Field: "reason", Message: "1 to 200 characters, one line, e.g. \"addressee unknown\"; no address"})
	}
	ctx, who, at := c.Request.Context(), caller(c), s.now().UTC()
	if len(bad) == 0 && reasonQuotes(req.Reason, s.customerContacts(ctx, id, req.SubjectID)...) {
		bad = append(bad, FieldError{Field: "reason", Message: reasonNoPersonalData})
	}
	if len(bad) > 0 {
		problem(c, http.StatusUnprocessableEntity, "bad letter return", bad...)
		return
	}
	err := s.store.RecordLetterReturned(ctx, id, req.SubjectID, req.Reason, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, fmt.Sprintf("incident %s sent no letter to subject %d", id, req.SubjectID),
			FieldError{Field: "subject_id", Message: "no letter to this customer"})
		return
	case errors.Is(err, store.ErrConflict):
		problem(c, http.StatusConflict, fmt.Sprintf("the letter to subject %d is not recorded printed yet", req.SubjectID))
		return
	case err != nil:
		s.internal(c, "record letter returned", err)
		return
	}
	if err := s.auditContacts(ctx, id, who, "letters.returned", "subject:"+strconv.FormatInt(req.SubjectID, 10), at,
		map[string]any{"subject_id": req.SubjectID, "reason": req.Reason}); err != nil {
		s.internal(c, "audit letter returned", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"subject_id": req.SubjectID, "status": store.NoticeFailed, "reason": store.LetterReturned + ": " + req.Reason})
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// wakeNotices asks the incident for another notice run after letters or a
// substitute notice settled customers, so the customer_notices step can
// complete (workflows: lettersOutstanding). The run sends nothing already
// sent. A refusal (no notice step ready, a run in progress, the incident
// closed) is fine: a run in progress counts again when it ends.
func (s *Server) wakeNotices(c *gin.Context, id, key string) {
	ctx := c.Request.Context()
	customers, err := s.store.SubjectLocales(ctx, id)
	if err != nil {
		s.log.Warn("wake notices: count customers", "incident", id, "error", err)
		return
	}
	if _, err := s.sendUpdate(ctx, id, workflows.UpdateSendNotices, key, breach.SendNotices{Actor: actor(c), Customers: customers, Recount: true}); err != nil {
		if _, refused := refusal(id, err); !refused {
			s.log.Warn("wake notices", "incident", id, "error", err)
		}
	}
}
