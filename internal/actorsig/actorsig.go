// Package actorsig signs the actor of an Update in the API and checks the
// signature on the worker, so that only breachflow's API can say who acts.
//
// Temporal's frontend accepts an Update from anyone who can reach it, and
// the codec lets unencrypted payloads through; without a signature a
// caller could send {"actor": {"role": "admin"}} and be believed. The
// signature is an HMAC-SHA256, under a key only the API and the workers
// hold (BREACHFLOW_ACTOR_KEY), over the actor's name and role bound to the
// workflow (the incident), the Update's name and id, and the time it was
// made. It proves that breachflow's API, holding the key, vouched for this
// actor for this one Update of this incident a few minutes ago; it does
// not cover the rest of the Update's input, and it proves nothing about
// how the API authenticated the caller.
package actorsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// MinKeyBytes is the shortest key Sign and Verify accept.
const MinKeyBytes = 32

// MaxAge is how long a signature stays good. The API signs just before it
// sends and waits at most 30 seconds for the answer; a worker validates an
// Update as soon as it picks it up. Five minutes covers a worker restart
// and some clock skew between API and worker hosts, while a captured
// signature, already bound to one Update id of one incident, cannot be
// replayed for long.
const MaxAge = 5 * time.Minute

// Skew is how far in the future a signature's time may be (the API's
// clock ahead of the worker's).
const Skew = breach.ClockSkew

// version prefixes every signature, so the format can change.
const version = "v1"

// ErrNotSigned starts every refusal; the API answers it with 403.
var ErrNotSigned = errors.New("the actor is not signed by breachflow's API")

// Bind is what a signature is bound to besides the actor.
type Bind struct {
	WorkflowID string // the incident's workflow id, incident/<id>
	Update     string // the Update's name
	UpdateID   string // the Update's id (the request's idempotency key)
}

// Sign returns the signature of a for b made at time at.
func Sign(key []byte, a breach.Actor, b Bind, at time.Time) (string, error) {
	if len(key) < MinKeyBytes {
		return "", fmt.Errorf("actorsig: key is %d bytes, want at least %d", len(key), MinKeyBytes)
	}
	unix := at.Unix()
	mac := sum(key, a, b, unix)
	return version + "." + strconv.FormatInt(unix, 10) + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// Verify checks a.Sig against a and b at time now. Every error wraps
// ErrNotSigned and says why.
func Verify(key []byte, a breach.Actor, b Bind, now time.Time) error {
	refuse := func(why string) error { return fmt.Errorf("%w: %s", ErrNotSigned, why) }
	if len(key) < MinKeyBytes {
		return refuse("the worker has no actor key")
	}
	if a.Sig == "" {
		return refuse("the actor has no signature")
	}
	parts := strings.Split(a.Sig, ".")
	if len(parts) != 3 || parts[0] != version {
		return refuse("the signature is malformed")
	}
	unix, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return refuse("the signature is malformed")
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return refuse("the signature is malformed")
	}
	if !hmac.Equal(got, sum(key, a, b, unix)) {
		return refuse("the signature does not match")
	}
	at := time.Unix(unix, 0)
	switch {
	case now.Sub(at) > MaxAge:
		return refuse(fmt.Sprintf("the signature expired (made %s ago, good for %s)", now.Sub(at).Round(time.Second), MaxAge))
	case at.Sub(now) > Skew:
		return refuse("the signature is dated in the future")
	}
	return nil
}

// sum is the MAC over every bound field, each length-prefixed so no two
// different inputs share a message.
func sum(key []byte, a breach.Actor, b Bind, unix int64) []byte {
	m := hmac.New(sha256.New, key)
	for _, s := range []string{"breachflow actor " + version, b.WorkflowID, b.Update, b.UpdateID, a.Name, a.Role, strconv.FormatInt(unix, 10)} {
		m.Write(binary.AppendUvarint(nil, uint64(len(s))))
		m.Write([]byte(s))
	}
	return m.Sum(nil)
}

var actorType = reflect.TypeFor[breach.Actor]()

// actorField is the Actor field of the Update input v (a struct), if any.
func actorField(v reflect.Value) (reflect.Value, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.FieldByName("Actor")
	if !f.IsValid() || f.Type() != actorType {
		return reflect.Value{}, false
	}
	return f, true
}

// ActorOf returns the actor of an Update input (a breach struct with an
// Actor field, or a pointer to one).
func ActorOf(in any) (breach.Actor, bool) {
	if in == nil {
		return breach.Actor{}, false
	}
	f, ok := actorField(reflect.ValueOf(in))
	if !ok {
		return breach.Actor{}, false
	}
	return f.Interface().(breach.Actor), true
}

// SignInput returns a copy of the Update input in with its actor signed;
// in itself is not changed.
func SignInput(key []byte, in any, b Bind, at time.Time) (any, error) {
	if in == nil {
		return nil, fmt.Errorf("actorsig: the input of %s has no actor", b.Update)
	}
	v := reflect.ValueOf(in)
	ptr := v.Kind() == reflect.Pointer
	if ptr {
		if v.IsNil() {
			return nil, fmt.Errorf("actorsig: the input of %s has no actor", b.Update)
		}
		v = v.Elem()
	}
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	f, ok := actorField(cp)
	if !ok {
		return nil, fmt.Errorf("actorsig: the input of %s (%s) has no Actor field", b.Update, v.Type())
	}
	a := f.Interface().(breach.Actor)
	sig, err := Sign(key, a, b, at)
	if err != nil {
		return nil, err
	}
	a.Sig = sig
	f.Set(reflect.ValueOf(a))
	if ptr {
		return cp.Interface(), nil
	}
	return cp.Elem().Interface(), nil
}
