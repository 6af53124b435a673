package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
)

// TestDevCodecServesTheEmbeddedUI checks the dev-only codec route: CORS for
// the Temporal UI's origin only, and a real encrypt/decrypt round trip.
func TestDevCodecServesTheEmbeddedUI(t *testing.T) {
	key, _ := codec.NewKey("dev1")
	kr, err := codec.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Codec: codec.HTTPHandler(kr), DevCodecOrigin: "http://127.0.0.1:8233"})
	call := func(method, path, origin, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	pre := call(http.MethodOptions, "/dev/codec/decode", "http://127.0.0.1:8233", "")
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" {
		t.Fatalf("preflight: %d %v", pre.Code, pre.Header())
	}
	if other := call(http.MethodOptions, "/dev/codec/decode", "https://evil.example", ""); other.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS granted to a foreign origin")
	}
	plain := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"InNlY3JldCI="}]}`
	enc := call(http.MethodPost, "/dev/codec/encode", "http://127.0.0.1:8233", plain)
	if enc.Code != http.StatusOK || bytes.Contains(enc.Body.Bytes(), []byte("InNlY3JldCI=")) {
		t.Fatalf("encode: %d %s", enc.Code, enc.Body)
	}
	dec := call(http.MethodPost, "/dev/codec/decode", "http://127.0.0.1:8233", enc.Body.String())
	if dec.Code != http.StatusOK || !bytes.Contains(dec.Body.Bytes(), []byte("InNlY3JldCI=")) {
		t.Fatalf("decode did not give the plaintext back: %d %s", dec.Code, dec.Body)
	}
	if bad := call(http.MethodPost, "/dev/codec/steal", "", plain); bad.Code != http.StatusNotFound {
		t.Fatalf("unknown op: %d", bad.Code)
	}
	// Outside dev the token-free route does not exist.
	prod := New(Deps{Codec: codec.HTTPHandler(kr)})
	req := httptest.NewRequest(http.MethodPost, "/dev/codec/decode", strings.NewReader(enc.Body.String()))
	rec := httptest.NewRecorder()
	prod.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("dev codec served without DevCodecOrigin: %d", rec.Code)
	}
}
