package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
)

// macDomain starts every MAC input, so an audit MAC can never be confused
// with a MAC of anything else made with the same key.
const macDomain = "breachflow/audit-mac/v1"

// AuditKeys is the keyring that authenticates audit events
// (BREACHFLOW_AUDIT_KEYS): HMAC-SHA256 keys by id; the first one signs new
// events, every one verifies, so a key is rotated by putting a new one
// first and keeping the old ones for as long as their events are read.
type AuditKeys struct {
	current string
	keys    map[string][]byte
}

// ParseAuditKeys reads "keyid:base64key,…" (standard base64 of at least 32
// bytes per key); the first key is the current one.
func ParseAuditKeys(spec string) (*AuditKeys, error) {
	k := &AuditKeys{keys: map[string][]byte{}}
	for i, part := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" || strings.ContainsAny(id, " \t") {
			return nil, fmt.Errorf("key %d: want keyid:base64key", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("key %q: want standard base64 of at least 32 bytes", id)
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("key id %q appears twice", id)
		}
		k.keys[id] = key
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// NewAuditKey returns "id:base64key" with 32 random bytes, the form
// ParseAuditKeys reads.
func NewAuditKey(id string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b[:]), nil
}

// Current is the id of the key that signs new events.
func (k *AuditKeys) Current() string { return k.current }

// seal sets e.MACKey and e.MAC with the current key; e.Hash must be set.
func (k *AuditKeys) seal(e *AuditEvent) {
	e.MACKey = k.current
	e.MAC = MACEvent(k.keys[k.current], k.current, e.Hash)
}

// MACEvent returns the hex HMAC-SHA256, under key, of the netstrings of
// "breachflow/audit-mac/v1", keyID and hash (an event's HashEvent). The
// hash covers the event's content and its predecessor's hash, so the MAC
// of each event vouches for the whole chain up to it.
func MACEvent(key []byte, keyID, hash string) string {
	m := hmac.New(sha256.New, key)
	for _, f := range []string{macDomain, keyID, hash} {
		writeNetstring(m, f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// ChainHead is a checkpoint of a chain's last event (breach.AuditHead).
type ChainHead = breach.AuditHead

// HeadOf returns the chain head that e is.
func HeadOf(e AuditEvent) ChainHead {
	return ChainHead{Seq: e.Seq, Hash: e.Hash, MAC: e.MAC, KeyID: e.MACKey}
}

// VerifyAuditChain checks events, ordered by Seq, as one incident's
// complete chain, and is the one verifier every reader of the chain (API,
// CLI, evidence pack) calls:
//
//   - seqs run 1,2,3… without gaps, each PrevHash is the previous Hash and
//     each Hash matches HashEvent (VerifyChain);
//   - each event's MAC verifies under the key its MACKey names in keys,
//     which catches an event altered and the plain hash chain recomputed
//     by someone without the key. With keys nil, MACs are counted as
//     Unchecked, not verified. Events without a MAC verify as Legacy only
//     before the first event that has one: a MAC stripped later is a break;
//   - when head is not nil, the chain holds the head's event unchanged, so
//     events removed from the end are found.
//
// The report names the first event that does not verify.
func VerifyAuditChain(events []AuditEvent, keys *AuditKeys, head *ChainHead) ChainReport {
	rep := VerifyChain(events)
	if !rep.OK {
		return rep
	}
	broken := func(seq int64, format string, args ...any) ChainReport {
		return ChainReport{Events: len(events), BrokenAt: seq, Reason: fmt.Sprintf(format, args...)}
	}
	macSeen := false
	for _, e := range events {
		switch {
		case e.MAC == "" && macSeen:
			return broken(e.Seq, "event %d has no MAC although earlier events have one: its MAC was removed, or it was written without the key", e.Seq)
		case e.MAC == "":
			rep.Legacy++
		case keys == nil:
			macSeen = true
			rep.Unchecked++
		default:
			macSeen = true
			key, ok := keys.keys[e.MACKey]
			if !ok {
				return broken(e.Seq, "event %d is authenticated with key %q, which is not among the configured audit keys", e.Seq, e.MACKey)
			}
			if !hmac.Equal([]byte(MACEvent(key, e.MACKey, e.Hash)), []byte(e.MAC)) {
				return broken(e.Seq, "event %d fails its MAC under key %q: it was altered, or written without the key", e.Seq, e.MACKey)
			}
			rep.Authenticated++
		}
	}
	if head != nil && head.Seq > 0 {
		rep.Checkpoint = head.Seq
		if head.Seq > int64(len(events)) {
			return broken(int64(len(events))+1, "the chain ends at event %d but the workflow checkpointed event %d: events were removed from the end", len(events), head.Seq)
		}
		e := events[head.Seq-1]
		if e.Hash != head.Hash || e.MAC != head.MAC || e.MACKey != head.KeyID {
			return broken(e.Seq, "event %d differs from the workflow's checkpoint of it: the chain was rewritten", e.Seq)
		}
	}
	return rep
}
