package slack

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Action ids of the buttons on an alert's triage card; each opens a modal.
const (
	ActionAlertLaunch  = "breachflow.alert.launch"
	ActionAlertAttach  = "breachflow.alert.attach"
	ActionAlertDismiss = "breachflow.alert.dismiss"
)

// Modal callback ids of the alert decisions.
const (
	ViewAlertLaunch  = "breachflow.alert.launch"
	ViewAlertAttach  = "breachflow.alert.attach"
	ViewAlertDismiss = "breachflow.alert.dismiss"
)

// Block ids inside the alert modals; each block's one element has the
// same action id.
const (
	AlertPlaybook      = "playbook"
	AlertJurisdictions = "jurisdictions"
	AlertIncident      = "incident"
	AlertReason        = "reason"
)

// AlertCardView is what a triage card shows of an alert: never its text,
// which may name people; title, source, labels and counts only.
type AlertCardView struct {
	ID        int64
	Title     string
	Source    string
	Severity  string
	Rule      string
	Labels    map[string]string
	FirstSeen time.Time
	Count     int64
	// Decision, once made, replaces the buttons ("Launched BR-… by ann").
	Decision string
}

// AlertValue is the value of an alert card's buttons.
func AlertValue(id int64) string { return strconv.FormatInt(id, 10) }

// AlertMeta is a modal's private metadata: the alert and the card.
func AlertMeta(id int64, channel, ts string) string {
	return AlertValue(id) + "|" + channel + "|" + ts
}

// ParseAlertMeta splits AlertMeta.
func ParseAlertMeta(s string) (id int64, channel, ts string, ok bool) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 {
		return 0, "", "", false
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	return id, parts[1], parts[2], err == nil && id > 0
}

// AlertCard is the triage card of an alert: what it is, and Launch /
// Attach / Dismiss buttons until someone decides.
func AlertCard(v AlertCardView) (string, []slackapi.Block) {
	text := fmt.Sprintf("Alert #%d in triage: %s", v.ID, v.Title)
	head := fmt.Sprintf("*Alert #%d* · %s\n%s", v.ID, escape(v.Source), escape(v.Title))
	if v.Severity != "" {
		head += fmt.Sprintf(" · *%s*", escape(v.Severity))
	}
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(v.Labels)) {
		labels = append(labels, fmt.Sprintf("`%s=%s`", escape(k), escape(v.Labels[k])))
	}
	ctx := fmt.Sprintf("first seen %s", slackDate(v.FirstSeen))
	if v.Count > 1 {
		ctx += fmt.Sprintf(" · seen %d times", v.Count)
	}
	if v.Rule != "" {
		ctx += " · rule " + escape(v.Rule)
	}
	blocks := []slackapi.Block{slackapi.NewSectionBlock(mrkdwn(head), nil, nil)}
	if len(labels) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", mrkdwn(strings.Join(labels, " "))))
	}
	blocks = append(blocks, slackapi.NewContextBlock("", mrkdwn(ctx)))
	if v.Decision != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn("✅ "+escape(v.Decision)), nil, nil))
		return text, blocks
	}
	val := AlertValue(v.ID)
	launch := slackapi.NewButtonBlockElement(ActionAlertLaunch, val, plain("Launch"))
	launch.Style = slackapi.StylePrimary
	dismiss := slackapi.NewButtonBlockElement(ActionAlertDismiss, val, plain("Dismiss"))
	dismiss.Style = slackapi.StyleDanger
	blocks = append(blocks, slackapi.NewActionBlock("alert-"+val, launch,
		slackapi.NewButtonBlockElement(ActionAlertAttach, val, plain("Attach to incident")), dismiss))
	return text, blocks
}

// AlertModal is the form of one decision on an alert (callback one of
// the View* ids); playbookIDs fill the launch form's choice.
func AlertModal(callbackID string, id int64, channel, ts string, playbookIDs []string) slackapi.ModalViewRequest {
	m := slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: callbackID, Close: plain("Cancel"),
		PrivateMetadata: AlertMeta(id, channel, ts),
	}
	input := func(block, label, hint string, multiline bool) *slackapi.InputBlock {
		el := slackapi.NewPlainTextInputBlockElement(plain(hint), block)
		el.Multiline = multiline
		el.MaxLength = 1000
		return slackapi.NewInputBlock(block, plain(label), nil, el)
	}
	var blocks []slackapi.Block
	switch callbackID {
	case ViewAlertLaunch:
		m.Title, m.Submit = plain("Launch from alert"), plain("Launch")
		var opts []*slackapi.OptionBlockObject
		for _, p := range playbookIDs {
			opts = append(opts, slackapi.NewOptionBlockObject(p, plain(p), nil))
		}
		sel := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain("Playbook"), AlertPlaybook, opts...)
		if len(opts) > 0 {
			sel.InitialOption = opts[0]
		}
		j := input(AlertJurisdictions, "Jurisdictions", "DE, US-CA", false)
		j.Optional = true
		blocks = []slackapi.Block{
			slackapi.NewSectionBlock(mrkdwn(fmt.Sprintf("Launch a playbook for alert #%d. Its clock starts now: *aware_at* is this moment, recorded as your acceptance.", id)), nil, nil),
			slackapi.NewInputBlock(AlertPlaybook, plain("Playbook"), nil, sel), j,
		}
	case ViewAlertAttach:
		m.Title, m.Submit = plain("Attach alert"), plain("Attach")
		blocks = []slackapi.Block{input(AlertIncident, "Incident", "BR-7K3F9Q", false)}
	default:
		m.CallbackID = ViewAlertDismiss
		m.Title, m.Submit = plain("Dismiss alert"), plain("Dismiss")
		blocks = []slackapi.Block{input(AlertReason, "Why is it not a breach?", "kept with the alert", true)}
	}
	m.Blocks = slackapi.Blocks{BlockSet: blocks}
	return m
}
