package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func testKeys(t *testing.T, ids ...string) string {
	t.Helper()
	var parts []string
	for _, id := range ids {
		k, err := NewKey(id)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, k)
	}
	return strings.Join(parts, ",")
}

func TestRoundTripHidesPlaintext(t *testing.T) {
	kr, err := ParseKeys(testKeys(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	dc := DataConverter(kr)
	p, err := dc.ToPayload(map[string]string{"title": "CRM export on a public bucket"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("CRM export")) {
		t.Fatal("payload data holds plaintext")
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Fatalf("key id = %q, want k1", got)
	}
	if got := string(p.Metadata[converter.MetadataEncoding]); got != MetadataEncoding {
		t.Fatalf("encoding = %q", got)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back["title"] != "CRM export on a public bucket" {
		t.Fatalf("round trip = %v", back)
	}
}

func TestRotation(t *testing.T) {
	oldSpec := testKeys(t, "old")
	oldRing, err := ParseKeys(oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	sealedByOld, err := (&PayloadCodec{Keys: oldRing}).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := ParseKeys(testKeys(t, "new") + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.CurrentID() != "new" {
		t.Fatalf("current = %q, want the first key", rotated.CurrentID())
	}
	got, err := (&PayloadCodec{Keys: rotated}).Decode(sealedByOld)
	if err != nil {
		t.Fatalf("rotated ring cannot open old payload: %v", err)
	}
	if string(got[0].Data) != "x" {
		t.Fatalf("decoded %q", got[0].Data)
	}
	// A ring without the old key must refuse rather than return garbage.
	fresh, _ := ParseKeys(testKeys(t, "new"))
	if _, err := (&PayloadCodec{Keys: fresh}).Decode(sealedByOld); err == nil {
		t.Fatal("decode with missing key succeeded")
	}
}

func TestTamperDetected(t *testing.T) {
	kr, _ := ParseKeys(testKeys(t, "k1"))
	c := &PayloadCodec{Keys: kr}
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte("secret")}})
	if err != nil {
		t.Fatal(err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	if _, err := c.Decode(enc); err == nil {
		t.Fatal("tampered payload decoded")
	}
}

func TestParseKeysErrors(t *testing.T) {
	good := testKeys(t, "a")
	for _, tc := range []struct{ name, spec, want string }{
		{"empty", "", "no keys"},
		{"no colon", "abc", "keyid:base64key"},
		{"bad id", "a b:" + strings.SplitN(good, ":", 2)[1], "keyid:base64key"},
		{"not base64", "a:!!!", "not base64"},
		{"short", "a:AAAA", "want 32"},
		{"duplicate", good + "," + good, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeys(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseKeys(%q) = %v, want error containing %q", tc.spec, err, tc.want)
			}
		})
	}
}

func TestSealBindsAdditionalData(t *testing.T) {
	kr, _ := ParseKeys(testKeys(t, "k"))
	id, sealed, err := kr.Seal([]byte("ann@example.com"), []byte("subject.email"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(id, sealed, []byte("subject.name")); err == nil {
		t.Fatal("opened with the wrong additional data")
	}
	plain, err := kr.Open(id, sealed, []byte("subject.email"))
	if err != nil || string(plain) != "ann@example.com" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
}

// TestPlaintextRefusedUnlessDev: outside dev a payload that is not sealed
// never reaches workflow code; dev passes it through for local poking.
func TestPlaintextRefusedUnlessDev(t *testing.T) {
	kr, _ := ParseKeys(testKeys(t, "k1"))
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]any{"actor": map[string]string{"role": "admin"}})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := (&PayloadCodec{Keys: kr}).Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}

	var v map[string]any
	err = DataConverter(kr).FromPayload(plain, &v)
	if !errors.Is(err, ErrPlaintext) || !strings.Contains(err.Error(), `"json/plain"`) {
		t.Fatalf("strict decode of plain JSON: err = %v, want ErrPlaintext naming the encoding", err)
	}
	if _, err := (&PayloadCodec{Keys: kr}).Decode([]*commonpb.Payload{sealed[0], plain}); !errors.Is(err, ErrPlaintext) {
		t.Fatalf("a plaintext payload among sealed ones: err = %v, want ErrPlaintext", err)
	}
	if err := DataConverter(kr).FromPayload(sealed[0], &v); err != nil || v["actor"] == nil {
		t.Fatalf("strict decode of a sealed payload: %v, %v", v, err)
	}
	v = nil
	if err := DevDataConverter(kr).FromPayload(plain, &v); err != nil || v["actor"] == nil {
		t.Fatalf("dev decode of plain JSON: %v, %v", v, err)
	}
}
