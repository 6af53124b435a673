package slack

import (
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
)

// Users says who may act from Slack and with which role: Slack user ids
// (U…, W…) as Slack writes them, emails lower-cased. It comes from
// BREACHFLOW_SLACK_USERS.
type Users map[string]string

var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// ParseUsers reads "U024BE7LH=legal,ann@example.com=responder": a Slack
// user id or a staff email, "=", a role. Empty means nobody.
func ParseUsers(spec string) (Users, error) {
	out := Users{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		who, role, ok := strings.Cut(part, "=")
		who, role = strings.TrimSpace(who), strings.TrimSpace(role)
		if !ok || who == "" {
			return nil, fmt.Errorf("%q: want user=role", part)
		}
		if !breach.ValidRole(role) {
			return nil, fmt.Errorf("%q: role %q is not one of admin, responder, legal, viewer", part, role)
		}
		key := who
		if strings.Contains(who, "@") {
			a, err := mail.ParseAddress(who)
			if err != nil || a.Address != who {
				return nil, fmt.Errorf("%q: %q is not an email address", part, who)
			}
			key = strings.ToLower(who)
		} else if !slackUserID.MatchString(who) {
			return nil, fmt.Errorf("%q: %q is neither a Slack user id (U…) nor an email", part, who)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%q: %s is listed twice", part, who)
		}
		out[key] = role
	}
	return out, nil
}

// Lookup returns the actor name and role of a Slack user, known by id or
// by the email on their Slack profile ("" when unknown). The name is
// "slack:<id>" or, for a user configured by email, the email: staff
// addresses, never customers'.
func (u Users) Lookup(userID, email string) (name, role string, ok bool) {
	if r, found := u[userID]; found && userID != "" {
		return "slack:" + userID, r, true
	}
	if email = strings.ToLower(strings.TrimSpace(email)); email != "" {
		if r, found := u[email]; found {
			return email, r, true
		}
	}
	return "", "", false
}

// Principal is the name a configured user (a key of Users: a Slack user
// id or an email) acts under, as Lookup names them: "slack:<id>" or the
// email. Membership of a restricted incident is kept in these names.
func Principal(key string) string {
	if strings.Contains(key, "@") {
		return strings.ToLower(key)
	}
	return "slack:" + key
}

// NeedsEmail reports whether some users are configured by email, so an
// unknown user id is worth a users.info look-up.
func (u Users) NeedsEmail() bool {
	for k := range u {
		if strings.Contains(k, "@") {
			return true
		}
	}
	return false
}

// WithRole lists the configured users (ids and emails) who have one of
// roles exactly, sorted; admins are not told what is meant for legal.
func (u Users) WithRole(roles ...string) []string {
	var out []string
	for who, r := range u {
		for _, need := range roles {
			if r == need {
				out = append(out, who)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// All lists every configured user, sorted.
func (u Users) All() []string {
	out := make([]string, 0, len(u))
	for who := range u {
		out = append(out, who)
	}
	sort.Strings(out)
	return out
}
