package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// EnvSources names the environment variable that declares alert sources.
const EnvSources = "BREACHFLOW_ALERT_SOURCES"

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>" from a
// source that has a signing secret.
const SignatureHeader = "X-Breachflow-Signature"

// Source is one sender of alerts: its name (which rules match on), the
// token it sends as a bearer token, and an optional signing secret.
type Source struct {
	Name   string
	token  [32]byte // SHA-256 of the token
	secret []byte   // HMAC key of the body signature; nil = no signature
}

// Sources are the declared alert sources.
type Sources struct{ list []Source }

var sourceNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ParseSources reads "name:token[:secret],…". Tokens and secrets are at
// least 16 characters; names are lower-case words.
func ParseSources(s string) (*Sources, error) {
	out := &Sources{}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("%q: want name:token or name:token:secret", redact(item))
		}
		name := parts[0]
		if !sourceNamePattern.MatchString(name) {
			return nil, fmt.Errorf("source name %q: want lower-case letters, digits, - and _", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("source %q is declared twice", name)
		}
		seen[name] = true
		if len(parts[1]) < 16 {
			return nil, fmt.Errorf("source %q: token too short (use at least 16 random characters)", name)
		}
		src := Source{Name: name, token: sha256.Sum256([]byte(parts[1]))}
		if len(parts) == 3 {
			if len(parts[2]) < 16 {
				return nil, fmt.Errorf("source %q: signing secret too short (use at least 16 random characters)", name)
			}
			src.secret = []byte(parts[2])
		}
		out.list = append(out.list, src)
	}
	return out, nil
}

// redact keeps a configuration item's name only.
func redact(item string) string {
	name, _, _ := strings.Cut(item, ":")
	return name + ":…"
}

// Names lists the declared sources.
func (s *Sources) Names() []string {
	var out []string
	for _, x := range s.list {
		out = append(out, x.Name)
	}
	return out
}

// Authenticate returns the source whose token this is. It compares
// hashes in constant time and looks at every source, so timing says
// nothing about which one matched.
func (s *Sources) Authenticate(token string) (Source, bool) {
	h := sha256.Sum256([]byte(token))
	var found Source
	ok := false
	for _, x := range s.list {
		if hmac.Equal(h[:], x.token[:]) {
			found, ok = x, true
		}
	}
	return found, ok
}

// Signed reports whether the source requires a body signature.
func (x Source) Signed() bool { return x.secret != nil }

// Verify checks a signature header value against body.
func (x Source) Verify(body []byte, header string) bool {
	if x.secret == nil {
		return true
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign(x.secret, body))
}

// Sign returns the HMAC-SHA256 of body under secret.
func Sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// SignatureValue is the header value for body signed with secret.
func SignatureValue(secret, body []byte) string {
	return "sha256=" + hex.EncodeToString(Sign(secret, body))
}
