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
	bs, waiting, e := s.letterBatches(c.Request.Context(), id)
	if e != nil {
		s.answerAction(c, e)
		return
	}
	out := make([]letterBatchView, 0, len(bs))
	for _, b := range bs {
		out = append(out, viewBatch(b))
	}
	c.JSON(http.StatusOK, gin.H{"batches": out, "waiting": len(waiting)})
}

// letterBatches is the incident's batches, oldest first, and the customers
// who wait for a letter (subject ids, ascending).
func (s *Server) letterBatches(ctx context.Context, id string) ([]store.LetterBatch, []int64, *actionError) {
	bs, err := s.store.ListLetterBatches(ctx, id)
	if err != nil {
		return nil, nil, failedAction("list letter batches", err)
	}
	waiting, err := s.store.LetterCandidates(ctx, id)
	if err != nil {
		return nil, nil, failedAction("letter candidates", err)
	}
	return bs, waiting, nil
}

// generateLetters handles POST /v1/incidents/{id}/letters: a batch of the
// customers who need a letter (see generateLetterBatch).
func (s *Server) generateLetters(c *gin.Context) {
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	res, e := s.generateLetterBatch(c.Request.Context(), st, caller(c))
	if e != nil {
		s.answerAction(c, e)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"batch": viewBatch(res.Batch), "unprintable": res.Unprintable, "remaining": res.Remaining})
}

// letterBatchResult is a new batch, the customers left out of it because
// their letter cannot be printed (by subject id, ascending), and how many
// wait for the next batch.
type letterBatchResult struct {
	Batch       store.LetterBatch
	Unprintable []unprintableView
	Remaining   int
}

// lettersOff is the refusal of the letter routes on a server without the
// letter fonts.
const lettersOff = "letters are off: the letter fonts are not installed (see docs/letters.md)"

// generateLetterBatch makes a batch of the customers who need a letter;
// every surface (REST, the dashboard's letters page) generates through it.
// Customers whose address cannot be printed are reported and recorded as
// failed letters; the batch goes on.
func (s *Server) generateLetterBatch(ctx context.Context, st *breach.Status, who store.Token) (*letterBatchResult, *actionError) {
	id := st.ID
	r, err := s.letters.get()
	if err != nil {
		s.log.Error("letter fonts", "error", err)
		return nil, refusedAction(http.StatusServiceUnavailable, lettersOff)
	}
	ids, err := s.store.LetterCandidates(ctx, id)
	if err != nil {
		return nil, failedAction("letter candidates", err)
	}
	if len(ids) == 0 {
		return nil, refusedAction(http.StatusConflict, NoLetterWaiting)
	}
	remaining := max(0, len(ids)-MaxLetterBatch)
	ids = ids[:min(len(ids), MaxLetterBatch)]
	recs, err := s.store.GetSubjects(ctx, ids)
	if err != nil {
		return nil, failedAction("load letter subjects", err)
	}
	locales := map[string]int{}
	for _, rec := range recs {
		locales[breach.NormalizeLocale(rec.Locale)]++
	}
	if missing := breach.MissingNoticeTexts(st.NoticeTexts, locales); len(missing) > 0 {
		return nil, refusedAction(http.StatusConflict, breach.NoticeTextsMissing+": "+strings.Join(missing, "; "))
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
			return nil, failedAction("compose letter", err)
		default:
			printable = append(printable, rec.ID)
		}
	}
	at := s.now().UTC()
	b, err := s.store.CreateLetterBatch(ctx, store.NewLetterBatch{IncidentID: id, CreatedBy: who.Name, At: at,
		Subjects: printable, Unprintable: unprintable, MessageID: func(sid int64) string {
			return activities.MessageID(id, store.NoticeKindLetter, sid)
		}})
	if errors.Is(err, store.ErrConflict) {
		return nil, refusedAction(http.StatusConflict, "another batch took some of these customers at the same time; generate again")
	}
	if err != nil {
		return nil, failedAction("create letter batch", err)
	}
	if err := s.auditContacts(ctx, id, who, "letters.generated", "letters:"+strconv.FormatInt(b.ID, 10), at,
		map[string]any{"batch": b.ID, "letters": b.Letters, "unprintable": b.Unprintable}); err != nil {
		return nil, failedAction("audit letter batch", err)
	}
	report := make([]unprintableView, 0, len(unprintable))
	for sid, why := range unprintable {
		report = append(report, unprintableView{SubjectID: sid, Reason: why})
	}
	slices.SortFunc(report, func(a, b unprintableView) int { return int(a.SubjectID - b.SubjectID) })
	if b.Letters == 0 {
		// Every one was unprintable: nothing waits for the printer.
		s.wakeNotices(ctx, actorOf(who), id, fmt.Sprintf("letters-generated-%d", b.ID))
	}
	return &letterBatchResult{Batch: b, Unprintable: report, Remaining: remaining}, nil
}

// NoLetterWaiting is the refusal of a batch when nobody needs a letter.
const NoLetterWaiting = "no customer needs a letter: none with a postal address lacks an email or has a failed email notice without a letter"

// actorOf is the actor a token acts as.
func actorOf(who store.Token) breach.Actor { return breach.Actor{Name: who.Name, Role: who.Role} }

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

// renderBatch renders the batch in the path (see batchDocuments),
// answering a refusal itself.
func (s *Server) renderBatch(c *gin.Context, what string) (pdf []byte, placed []letters.Placed, ok bool) {
	batch, ok := batchParam(c)
	if !ok {
		return nil, nil, false
	}
	st, ok := s.loadStatus(c)
	if !ok {
		return nil, nil, false
	}
	pdf, placed, e := s.batchDocuments(c.Request.Context(), st, batch, caller(c), what)
	if e != nil {
		s.answerAction(c, e)
		return nil, nil, false
	}
	return pdf, placed, true
}

// batchDocuments renders a batch's letters again from the store, as they
// were placed: the PDF and the manifest come from one rendering. Every
// surface (REST, the dashboard's download links) renders through it: it
// needs who's active access grant, and the read (or its refusal) is in the
// audit chain.
func (s *Server) batchDocuments(ctx context.Context, st *breach.Status, batch int64, who store.Token, what string) ([]byte, []letters.Placed, *actionError) {
	b, err := s.store.GetLetterBatch(ctx, st.ID, batch)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, refusedAction(http.StatusNotFound, fmt.Sprintf("incident %s has no letter batch %d", st.ID, batch))
	}
	if err != nil {
		return nil, nil, failedAction("get letter batch", err)
	}
	if _, e := s.checkContactsGrant(ctx, st.ID, who, fmt.Sprintf("letter batch %d %s", b.ID, what)); e != nil {
		return nil, nil, e
	}
	return s.batchPDF(ctx, st, b)
}

// batchPDF renders batch b's letters from the store, as they were placed.
// It shows nobody anything: callers that hand the PDF out check the access
// grant first.
func (s *Server) batchPDF(ctx context.Context, st *breach.Status, b store.LetterBatch) ([]byte, []letters.Placed, *actionError) {
	r, err := s.letters.get()
	if err != nil {
		s.log.Error("letter fonts", "error", err)
		return nil, nil, refusedAction(http.StatusServiceUnavailable, lettersOff)
	}
	recs, err := s.store.GetSubjects(ctx, b.SubjectIDs)
	if err != nil {
		return nil, nil, failedAction("load letter subjects", err)
	}
	ls := make([]letters.Letter, 0, len(recs))
	for _, rec := range recs {
		l, err := s.composeLetter(ctx, st, rec, true)
		if err != nil {
			return nil, nil, failedAction("compose letter", err)
		}
		ls = append(ls, l)
	}
	var buf bytes.Buffer
	placed, err := r.Render(&buf, ls, b.CreatedAt)
	if errors.Is(err, letters.ErrUnprintable) {
		return nil, nil, refusedAction(http.StatusConflict, "a customer's address changed since the batch was made and cannot be printed now; generate the batch's letters again after fixing the import")
	}
	if err != nil {
		return nil, nil, failedAction("render letters", err)
	}
	return buf.Bytes(), placed, nil
}

// batchManifest writes the manifest CSV of placed letters.
func batchManifest(placed []letters.Placed) ([]byte, *actionError) {
	var buf bytes.Buffer
	if err := letters.WriteManifest(&buf, placed); err != nil {
		return nil, failedAction("write manifest", err)
	}
	return buf.Bytes(), nil
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
	csv, e := batchManifest(placed)
	if e != nil {
		s.answerAction(c, e)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("%s-letters-%s.csv", c.Param("id"), c.Param("batch"))))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", csv)
}

type letterPrintedRequest struct {
	Reference string `json:"reference"`
}

// letterPrinted handles POST /v1/incidents/{id}/letters/{batch}/printed:
// legal records that the batch went to the printer, under its reference;
// the batch's letters count as sent from then. The SHA-256 of the batch
// PDF as it renders now (what a download gave) is kept with the batch.
func (s *Server) letterPrinted(c *gin.Context) {
	if _, ok := incidentParam(c); !ok {
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
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	b, e := s.markLettersPrinted(c.Request.Context(), st, batch, req.Reference, caller(c))
	if e != nil {
		s.answerAction(c, e)
		return
	}
	c.JSON(http.StatusOK, gin.H{"batch": viewBatch(b)})
}

// markLettersPrinted records that legal handed a batch to the printer
// under its reference; the batch's letters count as sent from then. The
// SHA-256 of the batch PDF as it renders now (what a download gave) is
// kept with the batch. Every surface (REST, the dashboard's letters page)
// records through it.
func (s *Server) markLettersPrinted(ctx context.Context, st *breach.Status, batch int64, reference string, who store.Token) (store.LetterBatch, *actionError) {
	id := st.ID
	reference = strings.TrimSpace(reference)
	if reference == "" || len(reference) > 200 || strings.ContainsFunc(reference, isControl) {
		return store.LetterBatch{}, refusedAction(http.StatusUnprocessableEntity, "the printer's reference is required", FieldError{Field: "reference", Message: "1 to 200 characters, one line"})
	}
	at := s.now().UTC()
	b, err := s.store.GetLetterBatch(ctx, id, batch)
	if errors.Is(err, store.ErrNotFound) {
		return b, refusedAction(http.StatusNotFound, fmt.Sprintf("incident %s has no letter batch %d", id, batch))
	}
	if err != nil {
		return b, failedAction("get letter batch", err)
	}
	pdf, _, e := s.batchPDF(ctx, st, b)
	if e != nil {
		return b, e
	}
	sum := sha256.Sum256(pdf)
	b, err = s.store.MarkLetterBatchPrinted(ctx, id, batch, reference, who.Name, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return b, refusedAction(http.StatusNotFound, fmt.Sprintf("incident %s has no letter batch %d", id, batch))
	case errors.Is(err, store.ErrConflict):
		return b, refusedAction(http.StatusConflict, fmt.Sprintf("letter batch %d was already recorded printed under another reference", batch))
	case err != nil:
		return b, failedAction("mark letter batch printed", err)
	}
	if b, err = s.store.RecordLetterBatchPDF(ctx, id, b.ID, hex.EncodeToString(sum[:])); err != nil {
		return b, failedAction("record letter batch PDF", err)
	}
	if err := s.auditContacts(ctx, id, who, "letters.printed", "letters:"+strconv.FormatInt(b.ID, 10), at,
		map[string]any{"batch": b.ID, "reference": b.Reference, "letters": b.Letters, "pdf_sha256": b.PDFSHA256}); err != nil {
		return b, failedAction("audit letters printed", err)
	}
	s.wakeNotices(ctx, actorOf(who), id, fmt.Sprintf("letters-printed-%d", b.ID))
	return b, nil
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
	reason, e := s.recordLetterReturn(c.Request.Context(), id, req, caller(c))
	if e != nil {
		s.answerAction(c, e)
		return
	}
	c.JSON(http.StatusOK, gin.H{"subject_id": req.SubjectID, "status": store.NoticeFailed, "reason": reason})
}

// recordLetterReturn records a printed letter that came back
// undeliverable and answers the reason its notice now carries. Every
// surface (REST, the dashboard's letters page) records through it.
func (s *Server) recordLetterReturn(ctx context.Context, id string, req letterReturnRequest, who store.Token) (string, *actionError) {
	req.Reason = strings.TrimSpace(req.Reason)
	var bad []FieldError
	if req.SubjectID < 1 {
		bad = append(bad, FieldError{Field: "subject_id", Message: "the customer's subject id (a whole number ≥ 1)"})
	}
	if req.Reason == "" || len(req.Reason) > 200 || strings.ContainsFunc(req.Reason, isControl) {
		bad = append(bad, FieldError{Field: "reason", Message: "1 to 200 characters, one line, e.g. \"addressee unknown\"; no address"})
	}
	if len(bad) == 0 && reasonQuotes(req.Reason, s.customerContacts(ctx, id, req.SubjectID)...) {
		bad = append(bad, FieldError{Field: "reason", Message: reasonNoPersonalData})
	}
	if len(bad) > 0 {
		return "", refusedAction(http.StatusUnprocessableEntity, "bad letter return", bad...)
	}
	at := s.now().UTC()
	err := s.store.RecordLetterReturned(ctx, id, req.SubjectID, req.Reason, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", refusedAction(http.StatusNotFound, fmt.Sprintf("incident %s sent no letter to subject %d", id, req.SubjectID),
			FieldError{Field: "subject_id", Message: "no letter to this customer"})
	case errors.Is(err, store.ErrConflict):
		return "", refusedAction(http.StatusConflict, fmt.Sprintf("the letter to subject %d is not recorded printed yet", req.SubjectID))
	case err != nil:
		return "", failedAction("record letter returned", err)
	}
	if err := s.auditContacts(ctx, id, who, "letters.returned", "subject:"+strconv.FormatInt(req.SubjectID, 10), at,
		map[string]any{"subject_id": req.SubjectID, "reason": req.Reason}); err != nil {
		return "", failedAction("audit letter returned", err)
	}
	return store.LetterReturned + ": " + req.Reason, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// wakeNotices asks the incident for another notice run after letters or a
// substitute notice settled customers, so the customer_notices step can
// complete (workflows: lettersOutstanding). The run sends nothing already
// sent. A refusal (no notice step ready, a run in progress, the incident
// closed) is fine: a run in progress counts again when it ends.
func (s *Server) wakeNotices(ctx context.Context, by breach.Actor, id, key string) {
	customers, err := s.store.SubjectLocales(ctx, id)
	if err != nil {
		s.log.Warn("wake notices: count customers", "incident", id, "error", err)
		return
	}
	if _, err := s.sendUpdate(ctx, id, workflows.UpdateSendNotices, key, breach.SendNotices{Actor: by, Customers: customers, Recount: true}); err != nil {
		if _, refused := refusal(id, err); !refused {
			s.log.Warn("wake notices", "incident", id, "error", err)
		}
	}
}
