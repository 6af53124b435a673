package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

func reject(kind, format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), kind)
}

// registerUpdates installs every human action as an Update whose
// validator refuses bad input before anything reaches history.
func (w *incident) registerUpdates(ctx workflow.Context) error {
	type reg struct {
		name     string
		handler  any
		validate any
	}
	for _, r := range []reg{
		{UpdateCompleteStep, w.completeStep, w.validateCompleteStep},
		{UpdateDecide, w.decide, w.validateDecide},
		{UpdatePatchFacts, w.patchFacts, w.validatePatchFacts},
		{UpdateAddRemediation, w.addRemediation, w.validateAddRemediation},
		{UpdateCompleteRemediation, w.completeRemediation, w.validateCompleteRemediation},
		{UpdateFileObligation, w.fileObligation, w.validateFileObligation},
		{UpdateWaiveObligation, w.waiveObligation, w.validateWaiveObligation},
		{UpdateClose, w.close, w.validateClose},
		{UpdateAcknowledge, w.acknowledge, w.validateAcknowledge},
		{UpdateSendNotices, w.sendNotices, w.validateSendNotices},
		{UpdateSetNoticeText, w.setNoticeText, w.validateSetNoticeText},
		{UpdateSetMember, w.setMember, w.validateSetMember},
		{UpdateOutreachDone, w.outreachDone, w.validateOutreachDone},
		{UpdateRemedyPoolChanged, w.remedyPoolChanged, w.validateRemedyPoolChanged},
		{UpdateLaunch, w.launched, nil},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, r.name, r.handler, workflow.UpdateHandlerOptions{Validator: r.validate}); err != nil {
			return err
		}
	}
	return nil
}

// launched answers the incident's first settled status: its obligations
// computed and its first steps ready. The API sends it with the start
// (Update-with-Start), so a launch is answered by the workflow itself.
func (w *incident) launched(ctx workflow.Context) (*breach.Status, error) {
	if err := workflow.Await(ctx, func() bool { return w.passes > 0 }); err != nil {
		return nil, err
	}
	return w.snapshot(), nil
}

// admit checks what every action needs: an open incident and, when the
// incident is restricted, an actor who is a member of it.
func (w *incident) admit(actor breach.Actor, need string) error {
	if w.status == breach.StatusClosed {
		return reject(breach.ErrConflict, "incident %s is closed", w.in.ID)
	}
	if actor.Name == "" || !breach.ValidRole(actor.Role) {
		return reject(breach.ErrForbidden, "no actor")
	}
	if w.in.Restricted && actor.Role != breach.RoleAdmin && !slices.Contains(w.members, actor.Name) {
		return reject(breach.ErrForbidden, "incident %s is restricted to its members", w.in.ID)
	}
	if need != "" && !breach.RoleSatisfies(actor.Role, need) {
		return reject(breach.ErrForbidden, "this needs the %s role; %s has %s", need, actor.Name, actor.Role)
	}
	return nil
}

func (w *incident) readyStep(actor breach.Actor, id string) (*breach.StepState, *playbooks.Step, error) {
	if err := w.admit(actor, ""); err != nil {
		return nil, nil, err
	}
	st := w.step(id)
	spec, ok := w.pb.Step(id)
	if st == nil || !ok {
		return nil, nil, reject(breach.ErrNotFound, "playbook %s has no step %q", w.pb.ID, id)
	}
	if st.Kind == playbooks.KindApproval && len(spec.Approvers) > 0 {
		// A quorum step names the roles whose approvals count; the owner
		// is who is reminded, not the only one who may decide.
		if !slices.ContainsFunc(spec.Approvers, func(r string) bool { return breach.RoleSatisfies(actor.Role, r) }) {
			return nil, nil, reject(breach.ErrForbidden, "step %s belongs to %s; %s has %s", id, strings.Join(spec.Approvers, " or "), actor.Name, actor.Role)
		}
	} else if !breach.RoleSatisfies(actor.Role, st.Owner) {
		return nil, nil, reject(breach.ErrForbidden, "step %s belongs to %s; %s has %s", id, st.Owner, actor.Name, actor.Role)
	}
	switch st.State {
	case breach.StepReady:
		return st, spec, nil
	case breach.StepPending:
		var waiting []string
		for _, p := range st.After {
			if ps := w.step(p); ps != nil && ps.State != breach.StepDone && ps.State != breach.StepSkipped {
				waiting = append(waiting, p)
			}
		}
		return nil, nil, reject(breach.ErrConflict, "step %s is not ready: waiting for %s", id, strings.Join(waiting, ", "))
	default:
		return nil, nil, reject(breach.ErrConflict, "step %s is already %s", id, st.State)
	}
}

// missingRequirements lists the facts the step requires that the incident
// does not know yet.
func (w *incident) missingRequirements(spec *playbooks.Step) []string {
	var missing []string
	for _, r := range spec.Requires {
		if fact, ok := breach.LookupFact(r); !ok || !fact.Known(w.facts) {
			missing = append(missing, r)
		}
	}
	return missing
}

func (w *incident) validateCompleteStep(_ workflow.Context, in breach.CompleteStep) error {
	st, spec, err := w.readyStep(in.Actor, in.Step)
	if err != nil {
		return err
	}
	if st.Kind == playbooks.KindApproval {
		return reject(breach.ErrConflict, "step %s is an approval: decide it (approve or reject)", st.ID)
	}
	if m := w.missingRequirements(spec); len(m) > 0 {
		return reject(breach.ErrInvalid, "step %s needs %s set first (PATCH the incident)", st.ID, strings.Join(m, ", "))
	}
	if len(in.Note) > 4000 || len(in.Evidence) > 50 {
		return reject(breach.ErrInvalid, "note is limited to 4000 characters and evidence to 50 items")
	}
	return nil
}

func (w *incident) completeStep(ctx workflow.Context, in breach.CompleteStep) (*breach.Status, error) {
	st := w.step(in.Step)
	spec, _ := w.pb.Step(in.Step)
	now := workflow.Now(ctx)
	st.State, st.DoneAt, st.DoneBy, st.Note, st.Evidence = breach.StepDone, &now, in.Actor.Name, in.Note, in.Evidence
	w.record(ctx, now, in.Actor.Name, "step.completed", "step:"+st.ID, in.Note, map[string]any{"evidence": in.Evidence, "role": in.Actor.Role})
	if st.Kind == playbooks.KindCustomerNotices && w.facts.SubjectsNotifiedAt == nil {
		w.facts.SubjectsNotifiedAt = &now
		w.dirtyFacts = true
	}
	if slices.Contains(spec.Requires, "risk") && w.facts.AssessedAt == nil {
		w.facts.AssessedAt = &now
		w.dirtyFacts = true
	}
	return w.settle(ctx)
}

func (w *incident) validateAcknowledge(_ workflow.Context, in breach.Acknowledge) error {
	st, _, err := w.readyStep(in.Actor, in.Step)
	if err != nil {
		return err
	}
	if st.AckedBy != "" {
		return reject(breach.ErrConflict, "step %s is already acknowledged by %s", st.ID, st.AckedBy)
	}
	return nil
}

func (w *incident) acknowledge(ctx workflow.Context, in breach.Acknowledge) (*breach.Status, error) {
	st := w.step(in.Step)
	now := workflow.Now(ctx)
	st.AckedBy, st.AckedAt = in.Actor.Name, &now
	w.record(ctx, now, in.Actor.Name, "step.acknowledged", "step:"+st.ID, "", map[string]any{"role": in.Actor.Role})
	return w.settle(ctx)
}

// quorumApprovals is the GetVersion id of approval steps that need a
// quorum of distinct approvers (two-person control); before it, one
// approval finished any approval step.
const quorumApprovals = "quorum-approvals"

func (w *incident) validateDecide(_ workflow.Context, in breach.Decide) error {
	st, spec, err := w.readyStep(in.Actor, in.Step)
	if err != nil {
		return err
	}
	if st.Kind != playbooks.KindApproval {
		return reject(breach.ErrConflict, "step %s is not an approval: complete it", st.ID)
	}
	if spec.Needed() > 1 {
		if spec.ExcludeLauncher && in.Actor.Name == w.in.LaunchedBy {
			return reject(breach.ErrForbidden, "step %s needs %d approvers other than %s, who launched the incident", st.ID, spec.Needed(), in.Actor.Name)
		}
		if in.Decision == "approve" && slices.ContainsFunc(st.Approvals, func(a breach.Approval) bool { return a.By == in.Actor.Name }) {
			return reject(breach.ErrConflict, "step %s is already approved by %s; %s (%d of %d approvals)",
				st.ID, in.Actor.Name, breach.SecondApproverNeeded, len(st.Approvals), spec.Needed())
		}
	}
	if a := w.noticeApproval(); in.Version != "" && a != nil && a.ID == st.ID {
		if now := breach.NoticeTextsVersion(w.noticeTexts); now != in.Version {
			return reject(breach.ErrConflict, "the notice wording changed since you read it (version %s, now %s): read it again before deciding", in.Version, now)
		}
	}
	switch in.Decision {
	case "approve":
	case "reject":
		if strings.TrimSpace(in.Reason) == "" {
			return reject(breach.ErrInvalid, "a rejection needs a reason")
		}
	default:
		return reject(breach.ErrInvalid, "decision must be approve or reject")
	}
	if len(in.Reason) > 4000 {
		return reject(breach.ErrInvalid, "reason is limited to 4000 characters")
	}
	return nil
}

func (w *incident) decide(ctx workflow.Context, in breach.Decide) (*breach.Status, error) {
	st := w.step(in.Step)
	spec, _ := w.pb.Step(in.Step)
	now := workflow.Now(ctx)
	// version is the notice wording this approval approves, recorded
	// when the step is the notice's approval.
	var version string
	if a := w.noticeApproval(); in.Decision == "approve" && a != nil && a.ID == st.ID &&
		workflow.GetVersion(ctx, noticeApprovalVersion, workflow.DefaultVersion, 1) == 1 {
		version = breach.NoticeTextsVersion(w.noticeTexts)
	}
	if in.Decision == "approve" && spec.Needed() > 1 && workflow.GetVersion(ctx, quorumApprovals, workflow.DefaultVersion, 1) == 1 {
		st.Approvals = append(st.Approvals, breach.Approval{By: in.Actor.Name, Role: in.Actor.Role, At: now, Version: version})
		if len(st.Approvals) < spec.Needed() {
			w.record(ctx, now, in.Actor.Name, "step.approval_recorded", "step:"+st.ID,
				fmt.Sprintf("approval %d of %d", len(st.Approvals), spec.Needed()),
				map[string]any{"role": in.Actor.Role, "reason": in.Reason, "approvals": len(st.Approvals), "quorum": spec.Needed(), "version": version})
			return w.settle(ctx)
		}
	}
	st.Decision, st.Reason, st.DoneBy = in.Decision, in.Reason, in.Actor.Name
	if in.Decision == "approve" {
		st.State, st.DoneAt, st.ApprovedVersion = breach.StepDone, &now, version
		details := map[string]any{"role": in.Actor.Role}
		if version != "" {
			details["version"] = version
		}
		if len(st.Approvals) > 0 {
			details["approvals"] = st.Approvals
		}
		w.record(ctx, now, in.Actor.Name, "step.approved", "step:"+st.ID, in.Reason, details)
	} else {
		// A rejection sends the work back; approvals given to the rejected
		// version do not count for the next.
		st.Approvals = nil
		w.record(ctx, now, in.Actor.Name, "step.rejected", "step:"+st.ID, in.Reason, map[string]any{"role": in.Actor.Role, "reopens": spec.OnReject})
		if len(spec.OnReject) == 0 {
			st.State, st.DoneAt = breach.StepRejected, &now
		} else {
			// Send the work back: the reopened steps run again and the
			// approval waits for them.
			st.State, st.ReadyAt, st.DueAt = breach.StepPending, nil, nil
			for _, id := range spec.OnReject {
				r := w.step(id)
				r.State, r.ReadyAt, r.DueAt, r.DoneAt, r.DoneBy, r.Reminded, r.Escalated = breach.StepPending, nil, nil, nil, "", 0, 0
				w.record(ctx, now, "system", "step.reopened", "step:"+id, "reopened by the rejection of "+st.ID, nil)
			}
		}
	}
	return w.settle(ctx)
}

// severityField is the one name PatchFacts.Set may carry that is not a
// fact: the incident's severity.
const severityField = "severity"

func (w *incident) validatePatchFacts(ctx workflow.Context, in breach.PatchFacts) error {
	if err := w.admit(in.Actor, ""); err != nil {
		return err
	}
	if !breach.RoleSatisfies(in.Actor.Role, breach.RoleResponder) && !breach.RoleSatisfies(in.Actor.Role, breach.RoleLegal) {
		return reject(breach.ErrForbidden, "changing facts needs the responder or legal role")
	}
	if len(in.Set) == 0 {
		return reject(breach.ErrInvalid, "nothing to change")
	}
	latest := workflow.Now(ctx).Add(breach.ClockSkew)
	for _, name := range in.Set {
		if name == severityField {
			if !slices.Contains(breach.Severities, in.Severity) {
				return reject(breach.ErrInvalid, "severity must be one of %s", strings.Join(breach.Severities, ", "))
			}
			continue
		}
		fact, ok := breach.LookupFact(name)
		if !ok || fact.System || fact.Name != name {
			return reject(breach.ErrInvalid, "%s cannot be changed", name)
		}
		if fact.Role != "" && !breach.RoleSatisfies(in.Actor.Role, fact.Role) {
			return reject(breach.ErrForbidden, "%s is %s's decision", name, fact.Role)
		}
		if fact.Required && !fact.Known(in.Facts) {
			return reject(breach.ErrInvalid, "%s cannot be removed", name)
		}
		if err := fact.Check(in.Facts, latest); err != nil {
			return reject(breach.ErrInvalid, "%s: %v", name, err)
		}
	}
	return nil
}

func (w *incident) patchFacts(ctx workflow.Context, in breach.PatchFacts) (*breach.Status, error) {
	for _, name := range in.Set {
		if name == severityField {
			w.severity = in.Severity
		} else if fact, ok := breach.LookupFact(name); ok {
			fact.Copy(&w.facts, in.Facts)
		}
	}
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "facts.changed", "incident", "changed "+strings.Join(in.Set, ", "),
		map[string]any{"fields": in.Set, "facts": w.facts, "severity": w.severity, "role": in.Actor.Role})
	w.dirtyFacts = true
	return w.settle(ctx)
}

func (w *incident) validateAddRemediation(_ workflow.Context, in breach.AddRemediation) error {
	if err := w.admit(in.Actor, breach.RoleResponder); err != nil {
		return err
	}
	if t := strings.TrimSpace(in.Title); t == "" || len(t) > 200 {
		return reject(breach.ErrInvalid, "title is required, at most 200 characters")
	}
	if len(in.Owner) > 100 {
		return reject(breach.ErrInvalid, "owner is at most 100 characters")
	}
	return nil
}

func (w *incident) addRemediation(ctx workflow.Context, in breach.AddRemediation) (*breach.Status, error) {
	id := fmt.Sprintf("R%d", len(w.remediations)+1)
	w.remediations = append(w.remediations, breach.Remediation{ID: id, Title: strings.TrimSpace(in.Title), Owner: in.Owner,
		DueAt: in.DueAt, Status: "open", AddedBy: in.Actor.Name})
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "remediation.added", "remediation:"+id, in.Title, map[string]any{"owner": in.Owner, "due_at": in.DueAt})
	return w.settle(ctx)
}

func (w *incident) remediation(id string) *breach.Remediation {
	for i := range w.remediations {
		if w.remediations[i].ID == id {
			return &w.remediations[i]
		}
	}
	return nil
}

func (w *incident) validateCompleteRemediation(_ workflow.Context, in breach.CompleteRemediation) error {
	if err := w.admit(in.Actor, breach.RoleResponder); err != nil {
		return err
	}
	r := w.remediation(in.ID)
	if r == nil {
		return reject(breach.ErrNotFound, "no remediation item %q", in.ID)
	}
	if r.Status != "open" {
		return reject(breach.ErrConflict, "remediation %s is already done", in.ID)
	}
	if len(in.Evidence) > 4000 {
		return reject(breach.ErrInvalid, "evidence is limited to 4000 characters")
	}
	return nil
}

func (w *incident) completeRemediation(ctx workflow.Context, in breach.CompleteRemediation) (*breach.Status, error) {
	r := w.remediation(in.ID)
	now := workflow.Now(ctx)
	r.Status, r.Evidence, r.DoneAt, r.DoneBy = "done", in.Evidence, &now, in.Actor.Name
	w.record(ctx, now, in.Actor.Name, "remediation.done", "remediation:"+in.ID, in.Evidence, nil)
	return w.settle(ctx)
}

func (w *incident) openObligation(actor breach.Actor, id string) (*breach.Obligation, error) {
	if err := w.admit(actor, breach.RoleLegal); err != nil {
		return nil, err
	}
	o := w.obligation(id)
	if o == nil {
		return nil, reject(breach.ErrNotFound, "no obligation %q on incident %s", id, w.in.ID)
	}
	if o.Status == breach.ObligationFiled || o.Status == breach.ObligationWaived {
		return nil, reject(breach.ErrConflict, "obligation %s is already %s", id, o.Status)
	}
	return o, nil
}

func (w *incident) validateFileObligation(ctx workflow.Context, in breach.FileObligation) error {
	if in.Supplement {
		if err := w.admit(in.Actor, breach.RoleLegal); err != nil {
			return err
		}
		o := w.obligation(in.Obligation)
		if o == nil {
			return reject(breach.ErrNotFound, "no obligation %q on incident %s", in.Obligation, w.in.ID)
		}
		if o.Status != breach.ObligationFiled {
			return reject(breach.ErrConflict, "obligation %s is %s: file the initial report before a supplement", o.ID, o.Status)
		}
		if in.FiledAt.Before(*o.FiledAt) || in.FiledAt.After(workflow.Now(ctx).Add(2*time.Minute)) {
			return reject(breach.ErrInvalid, "a supplement's filed_at must be after the initial filing and not in the future")
		}
		return nil
	}
	o, err := w.openObligation(in.Actor, in.Obligation)
	if err != nil {
		return err
	}
	if in.FiledAt.IsZero() {
		return reject(breach.ErrInvalid, "filed_at is required")
	}
	if in.FiledAt.After(workflow.Now(ctx).Add(2 * time.Minute)) {
		return reject(breach.ErrInvalid, "filed_at is in the future")
	}
	if o.DueAt != nil && in.FiledAt.After(*o.DueAt) && strings.TrimSpace(in.DelayReason) == "" {
		return reject(breach.ErrInvalid, "filed after the deadline: delay_reason is required (the regulator must be given the reasons for the delay)")
	}
	return nil
}

func (w *incident) fileObligation(ctx workflow.Context, in breach.FileObligation) (*breach.Status, error) {
	o := w.obligation(in.Obligation)
	at := in.FiledAt.UTC()
	if in.Supplement {
		o.Supplements = append(o.Supplements, breach.Filing{FiledAt: at, FiledBy: in.Actor.Name, Reference: in.Reference, Note: in.Note})
		w.record(ctx, workflow.Now(ctx), in.Actor.Name, "obligation.supplemented", "obligation:"+o.ID, in.Note,
			map[string]any{"filed_at": at, "reference": in.Reference, "initial_reference": o.Reference})
		return w.settle(ctx)
	}
	o.Status, o.FiledAt, o.FiledBy, o.Reference, o.FilingNote, o.DelayReason = breach.ObligationFiled, &at, in.Actor.Name, in.Reference, in.Note, in.DelayReason
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "obligation.filed", "obligation:"+o.ID, in.Note,
		map[string]any{"filed_at": at, "reference": in.Reference, "delay_reason": in.DelayReason})
	w.dirtyFacts = true // a filing can start a chained clock
	return w.settle(ctx)
}

func (w *incident) validateWaiveObligation(_ workflow.Context, in breach.WaiveObligation) error {
	if _, err := w.openObligation(in.Actor, in.Obligation); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return reject(breach.ErrInvalid, "a waiver needs a reason (kept for the record, e.g. GDPR Art. 33(5))")
	}
	return nil
}

func (w *incident) waiveObligation(ctx workflow.Context, in breach.WaiveObligation) (*breach.Status, error) {
	o := w.obligation(in.Obligation)
	o.Status, o.WaivedBy, o.WaiveReason = breach.ObligationWaived, in.Actor.Name, in.Reason
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "obligation.waived", "obligation:"+o.ID, in.Reason, nil)
	return w.settle(ctx)
}

// blockers lists what keeps the incident from closing.
func (w *incident) blockers() []string {
	var out []string
	for _, st := range w.steps {
		if st.Optional || st.State == breach.StepDone || st.State == breach.StepSkipped {
			continue
		}
		out = append(out, fmt.Sprintf("step %s is %s", st.ID, st.State))
	}
	for _, o := range w.obligations {
		if o.Exempt || o.Status == breach.ObligationFiled || o.Status == breach.ObligationWaived {
			continue
		}
		out = append(out, fmt.Sprintf("obligation %s (%s) is %s: file or waive it", o.ID, o.Regime, o.Status))
	}
	for _, r := range w.remediations {
		if r.Status == "open" {
			out = append(out, fmt.Sprintf("remediation %s (%s) is open", r.ID, r.Title))
		}
	}
	return out
}

func (w *incident) validateClose(_ workflow.Context, in breach.CloseIncident) error {
	if err := w.admit(in.Actor, breach.RoleResponder); err != nil {
		return err
	}
	if b := w.blockers(); len(b) > 0 {
		return temporal.NewApplicationError(fmt.Sprintf("%d things are still open", len(b)), breach.ErrBlocked, b)
	}
	return nil
}

func (w *incident) close(ctx workflow.Context, in breach.CloseIncident) (*breach.Status, error) {
	now := workflow.Now(ctx)
	w.status, w.closedAt = breach.StatusClosed, &now
	w.record(ctx, now, in.Actor.Name, "incident.closed", "incident", in.Note, nil)
	return w.settle(ctx)
}

// settle marks a change and waits until the main loop has processed it,
// so the caller sees recomputed obligations and advanced steps.
func (w *incident) settle(ctx workflow.Context) (*breach.Status, error) {
	w.gen++
	mine := w.gen
	if err := workflow.Await(ctx, func() bool {
		return w.settled >= mine || w.ended || w.status == breach.StatusClosed && w.settled >= mine-1
	}); err != nil {
		return nil, err
	}
	return w.snapshot(), nil
}

// membersChange is the change id of the member Updates: histories from
// before it never carry them.
const membersChange = "incident-members"

func (w *incident) validateSetMember(_ workflow.Context, in breach.SetMember) error {
	if err := w.admit(in.Actor, breach.RoleAdmin); err != nil {
		return err
	}
	if !w.in.Restricted {
		return reject(breach.ErrInvalid, "incident %s is not restricted, so it has no members", w.in.ID)
	}
	p := in.Principal
	if p == "" || len(p) > 200 || strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return reject(breach.ErrInvalid, "member %q: want a token name, slack:<user id> or an email of 1–200 characters without spaces", p)
	}
	if in.Member && !slices.Contains(w.members, p) && len(w.members) >= 50 {
		return reject(breach.ErrInvalid, "incident %s already has 50 members", w.in.ID)
	}
	return nil
}

// setMember adds or removes a member; a change that changes nothing is
// answered without an audit entry. The store's index, which every
// route's authorization reads, is written first (retried until it is), so
// when the Update answers, the index agrees with the workflow and the
// audit chain.
func (w *incident) setMember(ctx workflow.Context, in breach.SetMember) (*breach.Status, error) {
	workflow.GetVersion(ctx, membersChange, workflow.DefaultVersion, 1)
	if slices.Contains(w.members, in.Principal) == in.Member {
		return w.snapshot(), nil
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	change := activities.MemberChange{IncidentID: w.in.ID, Principal: in.Principal, Member: in.Member, By: in.Actor.Name}
	if err := workflow.ExecuteActivity(actx, a.SetIncidentMember, change).Get(ctx, nil); err != nil {
		return nil, err
	}
	has := slices.Contains(w.members, in.Principal) // another change may have landed meanwhile
	switch {
	case in.Member && !has:
		w.members = append(w.members, in.Principal)
		w.record(ctx, workflow.Now(ctx), in.Actor.Name, "member.added", "member:"+in.Principal, "", map[string]any{"role": in.Actor.Role})
	case !in.Member && has:
		w.members = slices.DeleteFunc(w.members, func(m string) bool { return m == in.Principal })
		w.record(ctx, workflow.Now(ctx), in.Actor.Name, "member.removed", "member:"+in.Principal, "", map[string]any{"role": in.Actor.Role})
	default:
		return w.snapshot(), nil
	}
	return w.settle(ctx)
}

func (w *incident) validateOutreachDone(_ workflow.Context, in breach.OutreachDone) error {
	if err := w.admit(in.Actor, breach.RoleResponder); err != nil {
		return err
	}
	if in.Task < 1 {
		return reject(breach.ErrInvalid, "no outreach task %d", in.Task)
	}
	return nil
}

// outreachDone puts one personal call in the audit trail; the task itself
// is marked done in the store by the API once this is accepted.
func (w *incident) outreachDone(ctx workflow.Context, in breach.OutreachDone) (*breach.Status, error) {
	workflow.GetVersion(ctx, membersChange, workflow.DefaultVersion, 1)
	w.record(ctx, workflow.Now(ctx), in.Actor.Name, "outreach.done", fmt.Sprintf("outreach:%d", in.Task), "", map[string]any{"role": in.Actor.Role})
	return w.settle(ctx)
}
