package slack

import (
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	slackapi "github.com/slack-go/slack"
)

// ViewFacts is the callback id of the modal that asks for the facts a
// step needs before it can be completed.
const ViewFacts = "breachflow.facts"

// FactElement is the input of one fact in a modal; its action id (and
// its input block's id) is the fact's name, so an error names its block.
func FactElement(f breach.Fact) slackapi.BlockElement {
	opts := func(vals []string) []*slackapi.OptionBlockObject {
		var out []*slackapi.OptionBlockObject
		for _, v := range vals {
			out = append(out, slackapi.NewOptionBlockObject(v, plain(v), nil))
		}
		return out
	}
	switch f.Kind {
	case breach.KindTime:
		// Slack shows and takes the time in the user's own zone and sends
		// a Unix time.
		return slackapi.NewDateTimePickerBlockElement(f.Name)
	case breach.KindChoice:
		return slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain(f.Name), f.Name, opts(f.Values)...)
	case breach.KindChoices:
		return slackapi.NewOptionsMultiSelectBlockElement(slackapi.MultiOptTypeStatic, plain(f.Name), f.Name, opts(f.Values)...)
	case breach.KindBool:
		return slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain(f.Name), f.Name,
			slackapi.NewOptionBlockObject("true", plain("yes"), nil), slackapi.NewOptionBlockObject("false", plain("no"), nil))
	case breach.KindCounts:
		return slackapi.NewPlainTextInputBlockElement(plain("DE=1200, US-CA=600"), f.Name)
	default:
		return slackapi.NewPlainTextInputBlockElement(plain("DE, US-CA"), f.Name)
	}
}

// FactBlock is the input block of one fact, its meaning as the hint.
func FactBlock(f breach.Fact, optional bool) *slackapi.InputBlock {
	b := slackapi.NewInputBlock(f.Name, plain(strings.ReplaceAll(f.Name, "_", " ")), plain(clip(f.Doc, 150)), FactElement(f))
	b.Optional = optional
	return b
}

// DeclareTimeFacts are the clock facts the declare modal offers besides
// aware_at: every time fact a launch takes, as the dashboard's form.
func DeclareTimeFacts() []breach.Fact {
	var out []breach.Fact
	for _, f := range breach.FactTable() {
		if f.Kind == breach.KindTime && !f.System && f.Name != DeclareAwareAt {
			out = append(out, f)
		}
	}
	return out
}

// FactsModal asks for the facts a step needs; its private metadata names
// the incident, the step and the channel to answer in.
func FactsModal(incidentID, stepID, channelID string, facts []breach.Fact) slackapi.ModalViewRequest {
	names := make([]string, len(facts))
	blocks := []slackapi.Block{nil}
	for i, f := range facts {
		names[i] = "`" + f.Name + "`"
		blocks = append(blocks, FactBlock(f, false))
	}
	blocks[0] = slackapi.NewSectionBlock(mrkdwn(fmt.Sprintf("Step `%s` of %s needs %s before it can be completed.",
		escape(stepID), incidentID, strings.Join(names, ", "))), nil, nil)
	return slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		CallbackID:      ViewFacts,
		Title:           plain("Set facts"),
		Submit:          plain("Set"),
		Close:           plain("Cancel"),
		PrivateMetadata: StepValue(incidentID, stepID) + "|" + channelID,
		Blocks:          slackapi.Blocks{BlockSet: blocks},
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
