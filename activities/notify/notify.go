// Package notify renders and sends the mail the Incident workflow asks
// for when a clock reminds, runs out or escalates, and the customer
// notices of the fan-out. It is its own package because rendering needs
// the templates, which the other activities do not.
package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/templates"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Notifier sends clock mail.
type Notifier struct {
	Mailer    *activities.Mailer
	PublicURL string
}

// SendClockMail renders the reminder for its kind and sends it to the
// staff holding the roles named.
func (n *Notifier) SendClockMail(ctx context.Context, in activities.ClockMail) (*activities.MailResult, error) {
	m, err := templates.RenderReminder(templates.ReminderInput{
		Kind: in.Kind, IncidentID: in.IncidentID, Title: in.Title, Subject: in.Subject,
		IncidentURL: strings.TrimRight(n.PublicURL, "/") + "/v1/incidents/" + in.IncidentID,
		DueAt:       in.DueAt, Now: in.Now, Owner: strings.Join(in.Roles, ", "),
	})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("render %s mail: %v", in.Kind, err), "RenderFailed", err)
	}
	res, err := n.Mailer.SendStaffMail(ctx, activities.StaffMail{
		IncidentID: in.IncidentID, Key: in.Key, Roles: in.Roles, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		Restricted: in.Restricted, Members: in.Members,
	})
	if err == nil {
		// Roles only: the recipients' addresses stay out of the logs.
		activity.GetLogger(ctx).Info("clock mail sent", "kind", in.Kind, "roles", strings.Join(in.Roles, ","))
	}
	return res, err
}
