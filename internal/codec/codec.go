// Package codec encrypts what breachflow hands to Temporal. Every payload —
// workflow inputs, results, query answers, update arguments, memos — passes
// through AES-256-GCM before it leaves the process, so the Temporal server
// and anyone reading its database see ciphertext and a key id, never an
// incident's title or a fact about the people it affects.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written by the codec.
const (
	// MetadataEncoding is the payload encoding of encrypted payloads.
	MetadataEncoding = "binary/encrypted"
	// MetadataKeyID names the key that sealed the payload, so keys can rotate.
	MetadataKeyID = "encryption-key-id"
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring holds the AES-256 keys. The first key seals; every key opens,
// which is how a key is rotated: add the new key in front, keep the old
// one until no history that needs it is retained.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	order   []string
}

// ParseKeys reads BREACHFLOW_ENCRYPTION_KEYS: "keyid:base64key,…", each key
// 32 bytes (standard or URL base64), the first being current.
func ParseKeys(spec string) (*Keyring, error) {
	kr := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("key %d: want keyid:base64key with an id of letters, digits, '.', '_' or '-'", i+1)
		}
		raw, err := decodeBase64(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		if err := kr.add(id, raw); err != nil {
			return nil, err
		}
	}
	if kr.current == "" {
		return nil, errors.New("no keys given")
	}
	return kr, nil
}

// NewKey returns a fresh random key in the "keyid:base64key" form ParseKeys reads.
func NewKey(id string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(raw), nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != 32 {
				return nil, fmt.Errorf("key is %d bytes, want 32 (AES-256)", len(raw))
			}
			return raw, nil
		}
	}
	return nil, errors.New("key is not base64")
}

func (kr *Keyring) add(id string, raw []byte) error {
	if _, dup := kr.aeads[id]; dup {
		return fmt.Errorf("key id %q appears twice", id)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return fmt.Errorf("key %q: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("key %q: %w", id, err)
	}
	if kr.current == "" {
		kr.current = id
	}
	kr.aeads[id] = aead
	kr.order = append(kr.order, id)
	return nil
}

// CurrentID is the id of the key that seals new data.
func (kr *Keyring) CurrentID() string { return kr.current }

// Seal encrypts plaintext with the current key. The additional data binds
// the ciphertext to its purpose (e.g. "payload", "subject.email") so a
// value cannot be moved from one field to another unnoticed.
func (kr *Keyring) Seal(plaintext, additional []byte) (keyID string, sealed []byte, err error) {
	aead := kr.aeads[kr.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	return kr.current, aead.Seal(nonce, nonce, plaintext, additional), nil
}

// Open decrypts what Seal produced with the named key.
func (kr *Keyring) Open(keyID string, sealed, additional []byte) ([]byte, error) {
	aead, ok := kr.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("open: unknown key id %q", keyID)
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("open: ciphertext too short")
	}
	nonce, ct := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ct, additional)
	if err != nil {
		return nil, fmt.Errorf("open with key %q: %w", keyID, err)
	}
	return plain, nil
}

var payloadAD = []byte("temporal.payload")

// PayloadCodec is the Temporal payload codec: it seals each payload whole
// (metadata and data) so even the original encoding is hidden.
//
// Decoding refuses a payload that is not sealed: whoever can reach the
// Temporal frontend could otherwise hand workflow code any input in plain
// JSON (an Update claiming an admin actor, a signal, a start). Only `dev`
// sets AcceptPlaintext, so the Temporal UI and the temporal CLI can poke a
// local stack.
type PayloadCodec struct {
	Keys            *Keyring
	AcceptPlaintext bool // dev only: pass unencrypted payloads through on decode
}

// ErrPlaintext is the error for an unencrypted payload where only sealed
// ones are accepted.
var ErrPlaintext = errors.New("payload is not encrypted; outside dev every payload must be sealed with BREACHFLOW_ENCRYPTION_KEYS, so it is refused")

var _ converter.PayloadCodec = (*PayloadCodec)(nil)

// Encode implements converter.PayloadCodec.
func (c *PayloadCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		id, sealed, err := c.Keys.Seal(plain, payloadAD)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncoding),
				MetadataKeyID:              []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec. A payload that was never
// encrypted (e.g. written by another client) is refused with ErrPlaintext,
// or passed through unchanged when AcceptPlaintext is set.
func (c *PayloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != MetadataEncoding {
			if !c.AcceptPlaintext {
				return nil, fmt.Errorf("decode payload (encoding %q): %w", enc, ErrPlaintext)
			}
			out[i] = p
			continue
		}
		plain, err := c.Keys.Open(string(p.GetMetadata()[MetadataKeyID]), p.GetData(), payloadAD)
		if err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = &orig
	}
	return out, nil
}

// DataConverter wraps Temporal's default converter with the codec; it
// refuses unencrypted payloads (server and worker).
func DataConverter(keys *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &PayloadCodec{Keys: keys})
}

// DevDataConverter is DataConverter that also accepts unencrypted
// payloads, for `breachflow dev` alone.
func DevDataConverter(keys *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &PayloadCodec{Keys: keys, AcceptPlaintext: true})
}

// HTTPHandler serves the codec over HTTP (POST /encode, POST /decode) for
// the Temporal Web UI and CLI. Mount it behind authentication: whoever can
// reach it can read every payload. It shows unencrypted payloads as they
// are (the UI displays what history holds; nothing it decodes reaches
// workflow code).
func HTTPHandler(keys *Keyring) http.Handler {
	return converter.NewPayloadCodecHTTPHandler(&PayloadCodec{Keys: keys, AcceptPlaintext: true})
}
