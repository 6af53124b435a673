package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/evidence"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
)

// The evidence pack: one signed zip of an incident's record for a
// regulator or a court (internal/evidence writes and verifies it). It
// holds no customer's name or email: the delivery report is counts.

// evidenceKey handles GET /v1/evidence-key: the public key that verifies
// this server's evidence packs.
func (s *Server) evidenceKey(c *gin.Context) {
	if s.evidenceSigner == nil {
		problem(c, http.StatusServiceUnavailable, "evidence packs are off: the server has no BREACHFLOW_EVIDENCE_KEY")
		return
	}
	pub := s.evidenceSigner.Public().(ed25519.PublicKey)
	c.JSON(http.StatusOK, gin.H{"algorithm": "Ed25519", "public_key": base64.StdEncoding.EncodeToString(pub),
		"fingerprint": evidence.Fingerprint(pub)})
}

// evidence handles GET /v1/incidents/{id}/evidence.
func (s *Server) evidence(c *gin.Context) {
	if s.evidenceSigner == nil {
		problem(c, http.StatusServiceUnavailable, "evidence packs are off: the server has no BREACHFLOW_EVIDENCE_KEY")
		return
	}
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	h := evidence.NewHeader(st.ID, s.now(), st.Status != breach.StatusClosed)
	files, err := s.evidenceFiles(c, st, h)
	if err != nil {
		s.internal(c, "evidence pack", err)
		return
	}
	var buf bytes.Buffer
	if err := evidence.Write(&buf, h, files, s.evidenceSigner); err != nil {
		s.internal(c, "write evidence pack", err)
		return
	}
	name := st.ID + "-evidence"
	if h.Interim {
		name += "-interim"
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	c.Header("Evidence-Interim", fmt.Sprint(h.Interim))
	c.Header("Evidence-Key-Fingerprint", evidence.Fingerprint(s.evidenceSigner.Public().(ed25519.PublicKey)))
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// AuditRecord is an incident's audit trail and the verdict on its chain.
type AuditRecord struct {
	Events []AuditEventView `json:"events"`
	Chain  ChainView        `json:"chain"`
	// Checkpoint is the chain head the incident's workflow kept, which the
	// chain was compared with (absent when the workflow did not answer).
	Checkpoint *store.ChainHead `json:"checkpoint,omitempty"`
}

// ChainView is the outcome of verifying an audit chain: the store's report
// and how it was verified.
type ChainView struct {
	store.ChainReport
	Method string `json:"method"`
}

// auditRecord reads the incident's audit trail and verifies it as GET
// …/audit does: hashes, links and MACs with the audit keys, against the
// checkpoint in st (the workflow's status).
func (s *Server) auditRecord(ctx context.Context, st *breach.Status) (AuditRecord, error) {
	events, rep, err := s.store.VerifiedAudit(ctx, st.ID, st.AuditHead)
	if err != nil {
		return AuditRecord{}, err
	}
	out := AuditRecord{Events: make([]AuditEventView, 0, len(events)), Checkpoint: st.AuditHead,
		Chain: ChainView{ChainReport: rep, Method: "SHA-256 hash chain (store.HashEvent), each event's hash authenticated " +
			"with HMAC-SHA256 under an audit key held outside the database, compared with the workflow's checkpoint (docs/audit.md)"}}
	for _, e := range events {
		out.Events = append(out.Events, AuditEventView{Seq: e.Seq, Key: e.Key, At: e.At, Actor: e.Actor, Action: e.Action,
			Target: e.Target, Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash, MAC: e.MAC, MACKey: e.MACKey})
	}
	return out, nil
}

// pinnedPlaybook is the playbook the incident runs: the one inside its
// workflow's input, pinned at launch. Failing that (the history is gone),
// the catalog's, said so in source.
func (s *Server) pinnedPlaybook(ctx context.Context, st *breach.Status) (pb *playbooks.Playbook, source string) {
	iter := s.temporal.GetWorkflowHistory(ctx, workflows.IncidentWorkflowID(st.ID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var why string
	if iter.HasNext() {
		ev, err := iter.Next()
		var in workflows.IncidentInput
		switch {
		case err != nil:
			why = err.Error()
		case ev.GetWorkflowExecutionStartedEventAttributes() == nil:
			why = "the history does not start with the workflow's start"
		default:
			if err := s.converter.FromPayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
				why = err.Error()
			} else if in.Playbook != nil {
				return in.Playbook, "pinned at launch: the playbook carried in the incident workflow's input"
			} else {
				why = "the workflow input carries no playbook"
			}
		}
	} else {
		why = "no workflow history"
	}
	s.log.WarnContext(ctx, "evidence: pinned playbook unavailable", "incident", st.ID, "error", why)
	if p, ok := s.playbooks.Get(st.PlaybookID); ok {
		source = "catalog: the pinned copy could not be read"
		if p.Version != st.PlaybookVersion {
			source += fmt.Sprintf("; CAUTION: the catalog holds version %d, the incident ran version %d", p.Version, st.PlaybookVersion)
		}
		return p, source
	}
	return nil, "unavailable: neither the pinned copy nor the catalog has it"
}

// evidenceFiles builds the pack's documents, each under the pack header.
func (s *Server) evidenceFiles(c *gin.Context, st *breach.Status, h evidence.Header) ([]evidence.File, error) {
	ctx := c.Request.Context()
	var files []evidence.File
	addJSON := func(path string, data any) error {
		b, err := h.JSON(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, evidence.File{Path: path, Data: b})
		return nil
	}

	pb, pbSource := s.pinnedPlaybook(ctx, st)
	digest := ""
	if pb != nil {
		digest = "sha256:" + pb.Digest()
	}
	audit, err := s.auditRecord(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	delivery, err := s.delivery(c, st.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	holds, err := s.store.ListHolds(ctx, st.ID)
	if err != nil {
		return nil, fmt.Errorf("holds: %w", err)
	}
	holdViews := []HoldView{}
	held := false
	for _, x := range holds {
		holdViews = append(holdViews, holdView(x))
		held = held || x.Active()
	}
	byStatus := map[string]int{}
	for _, o := range st.Obligations {
		byStatus[o.Status]++
	}
	summary := map[string]any{
		"id": st.ID, "title": st.Title, "summary": st.Summary, "severity": st.Severity, "status": st.Status, "phase": st.Phase,
		"external_ref": st.ExternalRef, "launched_by": st.LaunchedBy, "launched_at": st.LaunchedAt, "closed_at": st.ClosedAt,
		"restricted": st.Restricted, "facts": st.Facts, "next_deadline": st.NextDeadline,
		"playbook":       map[string]any{"id": st.PlaybookID, "version": st.PlaybookVersion, "digest": digest, "source": pbSource},
		"obligations":    byStatus,
		"audit":          map[string]any{"events": audit.Chain.Events, "chain_ok": audit.Chain.OK},
		"legal_hold":     held,
		"customer_data":  "none: the delivery report holds counts only",
		"organisation":   s.org.Name,
		"steps":          st.Steps,
		"remediations":   st.Remediations,
		"generated_from": "breachflow " + evidence.Format,
	}
	if err := addJSON("summary.json", summary); err != nil {
		return nil, err
	}
	files = append(files, evidence.File{Path: "summary.md", Data: h.Markdown(summaryMarkdown(st, digest, audit.Chain, held))})
	if err := addJSON("playbook.json", map[string]any{"digest": digest, "source": pbSource, "playbook": pb}); err != nil {
		return nil, err
	}
	timeline := st.Timeline
	if timeline == nil {
		timeline = []breach.TimelineEntry{}
	}
	if err := addJSON("timeline.json", timeline); err != nil {
		return nil, err
	}
	if err := addJSON("audit.json", audit); err != nil {
		return nil, err
	}
	obligations := st.Obligations
	if obligations == nil {
		obligations = []breach.Obligation{}
	}
	if err := addJSON("obligations.json", obligations); err != nil {
		return nil, err
	}
	files = append(files, evidence.File{Path: "obligations.md", Data: h.Markdown(obligationsMarkdown(st))})
	for _, o := range st.Obligations {
		in, err := s.reportInput(c.Request.Context(), st, o, h.GeneratedAt)
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", o.ID, err)
		}
		rep, err := templates.RenderReport(in)
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", o.ID, err)
		}
		files = append(files, evidence.File{Path: "reports/" + o.ID + ".md", Data: h.Markdown(rep.Markdown)})
	}
	runs := st.Notices
	if runs == nil {
		runs = []breach.NoticeRun{}
	}
	if err := addJSON("delivery.json", map[string]any{"delivery": delivery, "runs": runs,
		"note": "counts of customer notices by jurisdiction and status; no customer's name or email"}); err != nil {
		return nil, err
	}
	if err := addJSON("holds.json", holdViews); err != nil {
		return nil, err
	}
	return files, nil
}

// summaryMarkdown is the pack's one-page summary for a human reader.
func summaryMarkdown(st *breach.Status, digest string, chain ChainView, held bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Evidence pack: %s — %s\n\n", st.ID, oneLine(st.Title))
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, oneLine(v)) }
	row("Status", st.Status+" (phase "+st.Phase+")")
	row("Severity", st.Severity)
	row("Playbook", fmt.Sprintf("%s v%d, %s", st.PlaybookID, st.PlaybookVersion, digest))
	row("Launched", st.LaunchedAt.UTC().Format("2006-01-02 15:04 UTC")+" by "+st.LaunchedBy)
	if st.ClosedAt != nil {
		row("Closed", st.ClosedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	row("Aware", st.Facts.AwareAt.UTC().Format("2006-01-02 15:04 UTC"))
	row("Jurisdictions", strings.Join(st.Facts.Jurisdictions, ", "))
	row("Data categories", strings.Join(st.Facts.DataCategories, ", "))
	verdict := "verified"
	if !chain.OK {
		verdict = fmt.Sprintf("BROKEN at event %d: %s", chain.BrokenAt, chain.Reason)
	}
	row("Audit chain", fmt.Sprintf("%d events, %s", chain.Events, verdict))
	row("Legal hold", map[bool]string{true: "in place", false: "none"}[held])
	b.WriteString("\nFiles: summary, playbook as pinned, timeline, audit events with the chain's verification, " +
		"obligations with due times and filings, the regulator reports as drafted, the delivery report (counts only) " +
		"and the legal holds. manifest.json lists each file's SHA-256; manifest.sig is its Ed25519 signature. " +
		"Check it offline with `breachflow evidence verify FILE --public-key KEY`.\n")
	return b.String()
}

// obligationsMarkdown is the obligations as one table.
func obligationsMarkdown(st *breach.Status) string {
	var b strings.Builder
	b.WriteString("# Obligations\n\n| Obligation | Jurisdiction | Recipient | Due | Status | Filed | Reference | Waiver / delay reason |\n|---|---|---|---|---|---|---|---|\n")
	for _, o := range st.Obligations {
		due := o.Deadline
		if o.DueAt != nil {
			due = o.DueAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		filed := ""
		if o.FiledAt != nil {
			filed = o.FiledAt.UTC().Format("2006-01-02 15:04 UTC") + " by " + o.FiledBy
		}
		reason := o.WaiveReason
		if o.DelayReason != "" {
			reason = strings.TrimSpace(reason + " delay: " + o.DelayReason)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", oneLine(o.ID), oneLine(o.Jurisdiction), oneLine(o.RecipientName),
			oneLine(due), oneLine(o.Status), oneLine(filed), oneLine(o.Reference), oneLine(reason))
	}
	return b.String()
}

// oneLine keeps a value inside one Markdown table cell.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "|", "\\|").Replace(s)
}
