package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemporalTLSSettings: TLS is off by default and on as soon as any of
// its settings is given; each bad combination or file fails start-up with
// one line naming the variable.
func TestTemporalTLSSettings(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		on   bool
		err  string // prefix; "" for none
	}{
		{"default plaintext", map[string]string{}, false, ""},
		{"switched on", map[string]string{"BREACHFLOW_TEMPORAL_TLS": "true"}, true, ""},
		{"API key implies TLS", map[string]string{"BREACHFLOW_TEMPORAL_API_KEY": "k"}, true, ""},
		{"server name implies TLS", map[string]string{"BREACHFLOW_TEMPORAL_TLS_SERVER_NAME": "t.example"}, true, ""},
		{"not a switch", map[string]string{"BREACHFLOW_TEMPORAL_TLS": "maybe"}, false, "BREACHFLOW_TEMPORAL_TLS: "},
		{"API key in the clear", map[string]string{"BREACHFLOW_TEMPORAL_TLS": "false", "BREACHFLOW_TEMPORAL_API_KEY": "k"},
			false, "BREACHFLOW_TEMPORAL_TLS: false, but BREACHFLOW_TEMPORAL_API_KEY is set"},
		{"missing CA file", map[string]string{"BREACHFLOW_TEMPORAL_TLS_CA": filepath.Join(dir, "nope.pem")}, false, "BREACHFLOW_TEMPORAL_TLS_CA: "},
		{"CA not PEM", map[string]string{"BREACHFLOW_TEMPORAL_TLS_CA": notPEM}, false, "BREACHFLOW_TEMPORAL_TLS_CA: "},
		{"cert without key", map[string]string{"BREACHFLOW_TEMPORAL_TLS_CERT": notPEM}, false, "BREACHFLOW_TEMPORAL_TLS_KEY: required"},
		{"key without cert", map[string]string{"BREACHFLOW_TEMPORAL_TLS_KEY": notPEM}, false, "BREACHFLOW_TEMPORAL_TLS_CERT: required"},
		{"bad pair", map[string]string{"BREACHFLOW_TEMPORAL_TLS_CERT": notPEM, "BREACHFLOW_TEMPORAL_TLS_KEY": notPEM}, false, "BREACHFLOW_TEMPORAL_TLS_CERT: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.env)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line starting %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.TemporalTLSConfig()
			if err != nil || (got != nil) != tc.on {
				t.Fatalf("TemporalTLSConfig = %v, %v; want TLS on = %v", got, err, tc.on)
			}
			if tc.on && got.ServerName != tc.env["BREACHFLOW_TEMPORAL_TLS_SERVER_NAME"] {
				t.Errorf("ServerName = %q", got.ServerName)
			}
		})
	}
}
