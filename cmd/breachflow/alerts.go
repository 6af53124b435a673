package main

import (
	"fmt"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/breachflow/breachflow/playbooks"
)

// apiAlerts builds the API's alert intake from the configuration; nil
// (intake off) when no alert source is declared.
func apiAlerts(cfg *config.Config, catalog *playbooks.Catalog) (*api.AlertDeps, error) {
	if cfg.AlertSources == "" {
		return nil, nil
	}
	sources, err := alerts.ParseSources(cfg.AlertSources)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_ALERT_SOURCES: %w", err)
	}
	rules, err := alerts.LoadRules(cfg.AlertRulesDir, catalog)
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	det, err := detect.LoadConfig(cfg.DetectConfig)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_DETECT_CONFIG: %w", err)
	}
	return &api.AlertDeps{Sources: sources, Rules: rules, Rate: float64(cfg.AlertRate), Burst: cfg.AlertBurst, Detect: det}, nil
}
