package config

import (
	"strings"
	"testing"
)

func TestParseSlackUsers(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want map[string]string // user → role; nil means an error naming wantErr
		err  string
	}{
		{"", map[string]string{}, ""},
		{"U024BE7LH=legal", map[string]string{"U024BE7LH": "legal"}, ""},
		{"U024BE7LH=legal, Ann@Example.com=responder,", map[string]string{"U024BE7LH": "legal", "ann@example.com": "responder"}, ""},
		{"W012A3CDE=admin,bob@example.com=viewer", map[string]string{"W012A3CDE": "admin", "bob@example.com": "viewer"}, ""},
		{"U024BE7LH", nil, "want user=role"},
		{"=legal", nil, "want user=role"},
		{"U024BE7LH=boss", nil, "not one of"},
		{"ann=responder", nil, "neither a Slack user id"},
		{"u024be7lh=legal", nil, "neither a Slack user id"},
		{"ann@=responder", nil, "not an email"},
		{"Ann <ann@example.com>=responder", nil, "not an email"},
		{"U024BE7LH=legal,U024BE7LH=responder", nil, "listed twice"},
		{"ann@example.com=legal,ANN@example.com=legal", nil, "listed twice"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseSlackUsers(tc.spec)
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestSlackSettingsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env map[string]string
		bad string
	}{
		{map[string]string{"BREACHFLOW_SLACK_USERS": "U1=chief"}, "BREACHFLOW_SLACK_USERS"},
		{map[string]string{"BREACHFLOW_SLACK_TOKEN": "hunter2", "BREACHFLOW_SLACK_SIGNING_SECRET": "0123456789abcdef0123"}, "BREACHFLOW_SLACK_TOKEN"},
		{map[string]string{"BREACHFLOW_SLACK_TOKEN": "xoxb-1", "BREACHFLOW_SLACK_SIGNING_SECRET": "short"}, "BREACHFLOW_SLACK_SIGNING_SECRET"},
		{map[string]string{"BREACHFLOW_SLACK_API_URL": "slack.com/api"}, "BREACHFLOW_SLACK_API_URL"},
	} {
		_, err := load(t, tc.env)
		if err == nil || !strings.HasPrefix(err.Error(), tc.bad+":") {
			t.Errorf("%v: err = %v, want one naming %s", tc.env, err, tc.bad)
		}
	}
	c, err := load(t, map[string]string{"BREACHFLOW_SLACK_TOKEN": "xoxb-1", "BREACHFLOW_SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
		"BREACHFLOW_SLACK_USERS": "U024BE7LH=legal"})
	if err != nil || !c.SlackOn() || c.Slack()["U024BE7LH"] != "legal" {
		t.Fatalf("valid Slack settings: %v %+v", err, c)
	}
}
