package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/templates"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// Substitute notice (Cal. Civ. Code 1798.82(j); GDPR Art. 34(3)(c) and
// LGPD have the same idea): instead of reaching each customer, the
// organisation posts the notice on its website and tells the media. Legal
// records the decision and its basis; the customers it covers — those not
// reached by email or letter — have their notices suppressed with the
// decision as the reason, so the delivery report counts them as such.

// substituteBases are the grounds 1798.82(j) gives, keyed as the API
// takes them.
var substituteBases = map[string]string{
	"cost":         "the cost of notice would exceed $250,000",
	"count":        "more than 500,000 people would have to be notified",
	"contact_info": "the organisation does not have sufficient contact information",
}

// substituteCountThreshold is 1798.82(j)'s "exceeds 500,000".
const substituteCountThreshold = 500_000

// SubstituteReasonPrefix starts the LastError of every notice a
// substitute notice covers.
const SubstituteReasonPrefix = "substitute notice (Cal. Civ. Code 1798.82(j)): "

type substituteRequest struct {
	Basis         string   `json:"basis"`
	Reason        string   `json:"reason"`
	Jurisdictions []string `json:"jurisdictions"`
}

// substituteTexts are the website notice and the media draft of a locale.
type substituteTexts struct {
	Locale  string `json:"locale"`
	Website string `json:"website"`
	Media   string `json:"media"`
}

// decideSubstitute handles POST /v1/incidents/{id}/substitute-notice.
func (s *Server) decideSubstitute(c *gin.Context) {
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	var req substituteRequest
	if !decodeStrict(c, &req) {
		return
	}
	dec, e := s.decideSubstituteNotice(c.Request.Context(), st, req, caller(c))
	if e != nil {
		s.answerAction(c, e)
		return
	}
	c.JSON(http.StatusOK, gin.H{"basis": dec.Basis, "basis_text": substituteBases[dec.Basis], "covered": dec.Covered, "texts": dec.Texts})
}

// substituteDecision is a recorded substitute notice: its basis, how many
// customers' notices it covers, and the texts it produces.
type substituteDecision struct {
	Basis   string
	Covered int
	Texts   []substituteTexts
}

// decideSubstituteNotice records legal's decision and suppresses the
// notices it covers; every surface (REST, the dashboard's letters page)
// decides through it.
func (s *Server) decideSubstituteNotice(ctx context.Context, st *breach.Status, req substituteRequest, who store.Token) (*substituteDecision, *actionError) {
	req.Reason = strings.TrimSpace(req.Reason)
	var bad []FieldError
	if _, ok := substituteBases[req.Basis]; !ok {
		bad = append(bad, FieldError{Field: "basis", Message: "one of cost, count, contact_info"})
	}
	if req.Reason == "" || len(req.Reason) > 2000 {
		bad = append(bad, FieldError{Field: "reason", Message: "1 to 2000 characters: why the law allows it, kept for the record"})
	} else if reasonQuotes(req.Reason) {
		bad = append(bad, FieldError{Field: "reason", Message: reasonNoPersonalData})
	}
	for _, j := range req.Jurisdictions {
		if !jurisdictionPattern(j) {
			bad = append(bad, FieldError{Field: "jurisdictions", Message: fmt.Sprintf("%q is not an ISO 3166 code such as US-CA", j)})
		}
	}
	if len(bad) > 0 {
		return nil, refusedAction(http.StatusUnprocessableEntity, "bad substitute-notice decision", bad...)
	}
	if req.Basis == "count" {
		byJurisdiction, _, err := s.store.SubjectCounts(ctx, st.ID)
		if err != nil {
			return nil, failedAction("count subjects", err)
		}
		total := 0
		for _, n := range byJurisdiction {
			total += n
		}
		if total <= substituteCountThreshold {
			return nil, refusedAction(http.StatusUnprocessableEntity, fmt.Sprintf("the count basis needs more than 500,000 people; the incident has %d customers", total),
				FieldError{Field: "basis", Message: "more than 500,000 customers are needed for count"})
		}
	}
	texts, err := s.substituteTexts(st, breach.NoticeLocales())
	if err != nil {
		return nil, refusedAction(http.StatusConflict, "the substitute notice cannot be written yet: "+err.Error())
	}
	covered, err := s.coverBySubstitute(ctx, st.ID, req)
	if err != nil {
		return nil, failedAction("cover notices by substitute notice", err)
	}
	at := s.now().UTC()
	if err := s.auditContacts(ctx, st.ID, who, SubstituteDecided, "notices", at, map[string]any{"basis": req.Basis,
		"reason": req.Reason, "jurisdictions": req.Jurisdictions, "covered": covered}); err != nil {
		return nil, failedAction("audit substitute notice", err)
	}
	s.wakeNotices(ctx, actorOf(who), st.ID, "substitute-"+uuid.NewString())
	return &substituteDecision{Basis: req.Basis, Covered: covered, Texts: texts}, nil
}

// SubstituteDecided is the audit action of a substitute-notice decision.
const SubstituteDecided = "substitute_notice.decided"

// jurisdictionPattern accepts ISO 3166-1 alpha-2 and ISO 3166-2 codes.
func jurisdictionPattern(j string) bool {
	cc, sub, hasSub := strings.Cut(j, "-")
	if len(cc) != 2 || strings.ToUpper(cc) != cc {
		return false
	}
	return !hasSub || (len(sub) >= 1 && len(sub) <= 3 && strings.ToUpper(sub) == sub)
}

// coverBySubstitute suppresses the customer notices the decision covers:
// for contact_info, those that failed; for cost and count, every one not
// sent. A customer whose letter is printed or waiting for the printer is
// reached and left alone.
func (s *Server) coverBySubstitute(ctx context.Context, id string, req substituteRequest) (int, error) {
	var all []store.Notice
	for after := int64(0); ; {
		page, err := s.store.ListNotices(ctx, id, "", after, store.MaxNoticePage)
		if err != nil {
			return 0, err
		}
		all = append(all, page...)
		if len(page) < store.MaxNoticePage {
			break
		}
		after = page[len(page)-1].ID
	}
	lettered := map[int64]bool{}
	for _, n := range all {
		if n.Kind == store.NoticeKindLetter && (n.Status == store.NoticeSent || n.Status == store.NoticePending) {
			lettered[n.SubjectID] = true
		}
	}
	reason := SubstituteReasonPrefix + substituteBases[req.Basis]
	covered := 0
	for _, n := range all {
		switch {
		case n.Kind != breach.NoticeKindCustomer || lettered[n.SubjectID]:
			continue
		case len(req.Jurisdictions) > 0 && !slices.ContainsFunc(req.Jurisdictions, func(j string) bool {
			return n.Jurisdiction == j || strings.HasPrefix(n.Jurisdiction, j+"-")
		}):
			continue
		case n.Status == store.NoticeFailed, n.Status == store.NoticePending && req.Basis != "contact_info":
		default:
			continue
		}
		err := s.store.SuppressNotice(ctx, n.ID, reason)
		if errors.Is(err, store.ErrConflict) {
			continue // claimed by a run this moment: it is being sent
		}
		if err != nil {
			return covered, err
		}
		covered++
	}
	return covered, nil
}

// getSubstitute handles GET /v1/incidents/{id}/substitute-notice: the
// website notice and media draft, in every locale or ?locale=.
func (s *Server) getSubstitute(c *gin.Context) {
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	locales := breach.NoticeLocales()
	if l := c.Query("locale"); l != "" {
		if !slices.Contains(locales, l) {
			problem(c, http.StatusBadRequest, "bad query", FieldError{Field: "locale", Message: "one of " + strings.Join(locales, ", ")})
			return
		}
		locales = []string{l}
	}
	texts, err := s.substituteTexts(st, locales)
	if err != nil {
		problem(c, http.StatusConflict, "the substitute notice cannot be written yet: "+err.Error())
		return
	}
	c.JSON(http.StatusOK, gin.H{"texts": texts})
}

// substituteTexts writes the website notice (the customers' notice with
// a neutral greeting, to be posted for at least 30 days) and a media
// draft from legal's texts, per locale. A locale whose texts legal has
// not written is an error naming it.
func (s *Server) substituteTexts(st *breach.Status, locales []string) ([]substituteTexts, error) {
	out := make([]substituteTexts, 0, len(locales))
	for _, l := range locales {
		n, err := templates.RenderNotice(templates.NoticeInput{Incident: st, Org: s.org, Locale: l, GeneratedAt: st.LaunchedAt})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l, err)
		}
		t := st.NoticeTexts[l]
		var web, media strings.Builder
		org := s.org.Name
		contact := strings.Join(nonEmpty(s.org.Contact, s.org.Email, s.org.Phone), ", ")
		if l == breach.LocaleZhCN {
			fmt.Fprintf(&web, "（本通知将在本网站醒目位置公布至少30天。）\n\n%s", n.Text)
			fmt.Fprintf(&media, "新闻稿草稿\n\n%s就一起数据安全事件发布通知\n\n%s正在通知个人信息可能受到影响的人士。\n\n%s\n\n%s\n\n完整通知（包括您可以采取的措施）已在%s网站上公布。联系方式：%s\n",
				org, org, t.WhatHappened, t.WhatWeAreDoing, org, contact)
		} else {
			fmt.Fprintf(&web, "(Posted conspicuously on our website for at least 30 days.)\n\n%s", n.Text)
			fmt.Fprintf(&media, "DRAFT MEDIA NOTICE\n\n%s notifies people of a data security incident\n\n%s is notifying people whose personal information may have been involved in a security incident.\n\n%s\n\n%s\n\nThe full notice, including steps people can take, is posted on %s's website. Contact: %s\n",
				org, org, t.WhatHappened, t.WhatWeAreDoing, org, contact)
		}
		out = append(out, substituteTexts{Locale: l, Website: web.String(), Media: media.String()})
	}
	return out, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
