package config

import (
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/activities/slack"
)

// ParseSlackUsers reads BREACHFLOW_SLACK_USERS:
// "U024BE7LH=legal,ann@example.com=responder" (a Slack user id or a staff
// email, then a role).
func ParseSlackUsers(spec string) (slack.Users, error) { return slack.ParseUsers(spec) }

// validateSlack checks the Slack settings that go beyond presence.
func (c *Config) validateSlack() error {
	if _, err := ParseSlackUsers(c.SlackUsers); err != nil {
		return fmt.Errorf("BREACHFLOW_SLACK_USERS: %w", err)
	}
	if c.SlackToken != "" && !strings.HasPrefix(c.SlackToken, "xox") {
		return fmt.Errorf("BREACHFLOW_SLACK_TOKEN: not a Slack token (a bot token starts with xoxb-)")
	}
	if c.SlackSigningKey != "" && len(c.SlackSigningKey) < 16 {
		return fmt.Errorf("BREACHFLOW_SLACK_SIGNING_SECRET: too short (Slack's signing secrets are 32 hex characters)")
	}
	return nil
}

// SlackOn reports whether Slack is configured (a bot token is set).
func (c *Config) SlackOn() bool { return c.SlackToken != "" }

// Slack returns the Slack users → roles mapping (validated at load).
func (c *Config) Slack() slack.Users {
	u, _ := ParseSlackUsers(c.SlackUsers)
	return u
}
