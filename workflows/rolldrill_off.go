//go:build !rolldrill

package workflows

import (
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
	"go.temporal.io/sdk/workflow"
)

// stepReadied does nothing in the shipped build (see rolldrill.go).
func (w *incident) stepReadied(workflow.Context, *breach.StepState, *playbooks.Step) {}
