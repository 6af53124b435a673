package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TemporalTLSConfig is the TLS configuration of the connection to the
// Temporal frontend, or nil for plaintext. TLS is on when
// BREACHFLOW_TEMPORAL_TLS says true, or, when it is unset, as soon as a CA,
// a client certificate, a server name or an API key is given (an API key
// is never sent in the clear). Files are read here, so a missing or bad
// one fails start-up with one line naming its variable.
func (c *Config) TemporalTLSConfig() (*tls.Config, error) {
	set := map[string]string{
		"BREACHFLOW_TEMPORAL_TLS_CA":          c.TemporalTLSCA,
		"BREACHFLOW_TEMPORAL_TLS_CERT":        c.TemporalTLSCert,
		"BREACHFLOW_TEMPORAL_TLS_KEY":         c.TemporalTLSKey,
		"BREACHFLOW_TEMPORAL_TLS_SERVER_NAME": c.TemporalTLSServer,
		"BREACHFLOW_TEMPORAL_API_KEY":         c.TemporalAPIKey,
	}
	on := false
	for _, v := range set {
		on = on || v != ""
	}
	if strings.TrimSpace(c.TemporalTLS) != "" {
		explicit, err := parseSwitch(c.TemporalTLS)
		if err != nil {
			return nil, fmt.Errorf("BREACHFLOW_TEMPORAL_TLS: %w", err)
		}
		if !explicit {
			for _, name := range []string{"BREACHFLOW_TEMPORAL_TLS_CA", "BREACHFLOW_TEMPORAL_TLS_CERT", "BREACHFLOW_TEMPORAL_TLS_KEY",
				"BREACHFLOW_TEMPORAL_TLS_SERVER_NAME", "BREACHFLOW_TEMPORAL_API_KEY"} {
				if set[name] != "" {
					return nil, fmt.Errorf("BREACHFLOW_TEMPORAL_TLS: false, but %s is set (it needs TLS)", name)
				}
			}
		}
		on = explicit
	}
	if !on {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TemporalTLSServer}
	if c.TemporalTLSCA != "" {
		pem, err := os.ReadFile(c.TemporalTLSCA)
		if err != nil {
			return nil, fmt.Errorf("BREACHFLOW_TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("BREACHFLOW_TEMPORAL_TLS_CA: %s holds no PEM certificate", c.TemporalTLSCA)
		}
		cfg.RootCAs = pool
	}
	switch {
	case c.TemporalTLSCert != "" && c.TemporalTLSKey == "":
		return nil, errors.New("BREACHFLOW_TEMPORAL_TLS_KEY: required with BREACHFLOW_TEMPORAL_TLS_CERT")
	case c.TemporalTLSKey != "" && c.TemporalTLSCert == "":
		return nil, errors.New("BREACHFLOW_TEMPORAL_TLS_CERT: required with BREACHFLOW_TEMPORAL_TLS_KEY")
	case c.TemporalTLSCert != "":
		pair, err := tls.LoadX509KeyPair(c.TemporalTLSCert, c.TemporalTLSKey)
		if err != nil {
			return nil, fmt.Errorf("BREACHFLOW_TEMPORAL_TLS_CERT: %s", oneLine(err))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
