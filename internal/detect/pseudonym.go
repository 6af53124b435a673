package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// pseudonym keeps a user id as is, but replaces an email address (some
// exports name the acting user by email) with a stable pseudonym, so no
// email reaches a finding.
func pseudonym(user string) string {
	user = strings.TrimSpace(user)
	if !strings.Contains(user, "@") {
		return user
	}
	sum := sha256.Sum256([]byte(strings.ToLower(user)))
	return "user-" + hex.EncodeToString(sum[:6])
}
