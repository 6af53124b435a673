//go:build rolldrill

package workflows

import (
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"go.temporal.io/sdk/workflow"
)

// stepReadied asks an approval step's approvers by mail the moment it is
// ready (see rolldrill.go). A run that readied an approval step before
// this change keeps the old behaviour for the rest of its life: the
// version is decided once per run, where the run first gets here.
func (w *incident) stepReadied(ctx workflow.Context, st *breach.StepState, spec *playbooks.Step) {
	if spec.Kind != playbooks.KindApproval || workflow.GetVersion(ctx, RollDrillChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	now, roles := workflow.Now(ctx), spec.ApproverRoles()
	w.record(ctx, now, "system", "step.approval_requested", "step:"+st.ID, "approvers asked by mail: "+strings.Join(roles, ", "), nil)
	if st.DueAt != nil {
		w.notify(ctx, fmt.Sprintf("step-%s-asked-%d", st.ID, now.Unix()), "reminder", "Step: "+st.Title, *st.DueAt, roles...)
	}
}
