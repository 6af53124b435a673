package main

import (
	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/store"
)

// slackRoom is the incident-room activities when Slack is configured;
// without a token it is nil, no worker has them, and the API launches
// incidents without a room.
func slackRoom(cfg *config.Config, st store.Store) *slack.Activities {
	if !cfg.SlackOn() {
		return nil
	}
	return &slack.Activities{API: slack.NewClient(cfg.SlackToken, cfg.SlackAPIURL), Store: st, Users: cfg.Slack(), PublicURL: cfg.PublicURL}
}

// apiSlack is what the API's Slack endpoints need, or nil when Slack is off.
func apiSlack(cfg *config.Config) *api.Slack {
	if !cfg.SlackOn() {
		return nil
	}
	return &api.Slack{SigningSecret: cfg.SlackSigningKey, Users: cfg.Slack(),
		API: slack.NewClient(cfg.SlackToken, cfg.SlackAPIURL), PublicURL: cfg.PublicURL, TriageChannel: cfg.SlackTriage}
}
